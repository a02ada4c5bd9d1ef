"""The explanation of one assessment: every rule tested, with its values, whether it passed,
its source (document + article) and a sentence in Chinese and in English.

Pure: takes the computed facts of one household (plain Python values) and the parameters
in force; no simulation, no I/O. Article numbers that could not be checked against the
official text cite the document and the section's subject instead."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from safetynet.rules.common import MONEY_EPSILON

TK = "特困人员认定办法 (民发〔2021〕43号)"
DB = "最低生活保障审核确认办法 (民发〔2021〕57号)"
SR = "社会救助暂行办法 (国务院令第649号)"
EDGE = "最低生活保障边缘家庭认定 (民办函〔2024〕31号)"
RIGID = "刚性支出困难家庭认定办法 (民政部 2024)"
TK_SUPPORT = "国务院关于进一步健全特困人员救助供养制度的意见 (国发〔2016〕14号)"

REFERENCES = {
    "policy.local_standards": "地方标准: local_policy → 标准库 → 参数默认值 (docs/architecture.md)",
    "unit.members": f"{DB} 第七条",
    "income.per_capita": f"{DB} 家庭收入; 不计入家庭收入的项目",
    "assets.deposits": f"{DB} 家庭财产 (货币财产)",
    "assets.homes": f"{DB} 家庭财产 (不动产)",
    "assets.cars": f"{DB} 家庭财产 (车辆)",
    "assets.business_capital": f"{DB} 家庭财产 (市场主体)",
    "dibao.income_below_standard": f"{SR} 第九条",
    "dibao.household": f"{SR} 第九条; 最低生活保障 (按差额按月发给)",
    "extremely_poor.no_work_capacity": f"{TK} 第五条",
    "extremely_poor.minor_continued_support": f"{TK} 第二十四条",
    "extremely_poor.no_means_of_living": f"{TK} 第六条",
    "extremely_poor.no_supporter": f"{TK} 第八条",
    "extremely_poor.care_level": f"{TK} 生活自理能力评估",
    "extremely_poor.benefit": f"{TK_SUPPORT} 基本生活标准与照料护理标准",
    "edge.income_below_multiple": EDGE,
    "edge.expenditure_type": f"{EDGE}; 青岛市 支出型低保边缘家庭",
    "dibao.single_person": f"{DB} 单独提出申请; 参照“单人户”只核算个人收入 (黑民规〔2023〕1号)",
    "rigid.income_below_disposable": RIGID,
    "rigid.expenditure_ratio": RIGID,
    "tier.household": "关于加强低收入人口动态监测做好分层分类社会救助工作的意见 (国办发〔2023〕39号)",
}

TIER_ZH = {"extremely_poor": "特困人员", "dibao": "低保", "dibao_edge": "低保边缘",
           "rigid_expenditure": "刚性支出困难", "none": "不属于低收入人口层级"}
TIER_EN = {"extremely_poor": "extremely poor", "dibao": "dibao", "dibao_edge": "dibao edge",
           "rigid_expenditure": "rigid-expenditure hardship", "none": "no low-income tier"}
CATEGORY_ZH = {"physical": "肢体", "visual": "视力", "hearing": "听力", "speech": "言语",
               "intellectual": "智力", "mental": "精神", "multiple": "多重", "none": "无"}
CARE_ZH = {"self_care": "全自理", "partial": "半护理", "full": "全护理"}
CARE_EN = {"self_care": "fully self-caring", "partial": "partial care", "full": "full care"}
SUPPORTER_ZH = {"none": "无法定赡养、抚养、扶养义务人", "unable": "法定义务人无履行义务能力",
                "able": "有具备履行义务能力的法定义务人"}
SUPPORTER_EN = {"none": "No legal supporter", "unable": "The legal supporter cannot support",
                "able": "Has a legal supporter able to support"}


@dataclass
class Facts:
    """Computed values of one household: `household` and each of `persons` map variable
    names to plain values (enums as their names); `params` are the parameters in force;
    `local_values` and `sources` the local standards used and where each came from."""

    household: dict[str, Any]
    persons: list[dict[str, Any]]
    params: Any
    sources: dict[str, str] = field(default_factory=dict)
    local_values: dict[str, Any] = field(default_factory=dict)


def money(value: float) -> float:
    """A JSON-friendly amount rounded to fen, half away from zero (as common.round_money)."""
    return math.copysign(math.floor(abs(value) * 100 + 0.5 + 1e-7) / 100, value) + 0.0


def fmt(value: float) -> str:
    """941 → '941'; 333.3333 → '333.33' (for sentences)."""
    value = money(value)
    return str(int(value)) if value == int(value) else f"{value:.2f}"


def _entry(rule: str, passed: bool, values: dict, zh: str, en: str, person: str | None = None) -> dict:
    return {"rule": rule, "person": person, "passed": bool(passed), "values": values,
            "reference": REFERENCES[rule], "text_zh": zh, "text_en": en}


def explain(facts: Facts) -> list[dict]:
    """Every rule tested for the household, in the order of the decision."""
    h, p = facts.household, facts.params
    out = [_local_standards(facts), _unit(facts), _income(h), *_assets(h), _dibao_income(h),
           _dibao_household(h)]
    for person in facts.persons:
        if person["in_unit"]:
            out += _extremely_poor(person, h, p)
    if not h["dibao_eligible"]:
        out += _edge(h)
        if h["dibao_edge"]:
            out += [_single_person(person, h) for person in facts.persons if person["in_unit"]]
        else:
            out += _rigid(h, p)
    out.append(_tier(h))
    return out


def _local_standards(facts: Facts) -> dict:
    v = facts.local_values
    std, basic, mult = fmt(v["dibao_standard"]), fmt(v["extremely_poor_basic_standard"]), v["edge_multiplier"]
    zh = f"采用的地方标准：低保标准{std}元/人·月，特困人员基本生活标准{basic}元/人·月，低保边缘倍数{mult:g}"
    en = (f"Local standards used: dibao standard {std} yuan/person/month, extremely poor basic standard "
          f"{basic}, edge multiplier {mult:g}")
    return _entry("policy.local_standards", True, {**v, "sources": facts.sources}, zh, en)


def _unit(facts: Facts) -> dict:
    excluded = [x["id"] for x in facts.persons if not x["in_unit"]]
    size = facts.household["unit_size"]
    values = {"members_listed": len(facts.persons), "unit_size": size, "excluded": excluded}
    zh, en = f"共同生活家庭成员{size}人", f"{size} member(s) in the co-resident family"
    if excluded:
        zh += f"；{'、'.join(excluded)}服刑或强制隔离戒毒，不计入"
        en += f"; {', '.join(excluded)} serving a sentence or in compulsory rehabilitation, not counted"
    return _entry("unit.members", size > 0, values, zh, en)


def _income(h: dict) -> dict:
    income, other, n = fmt(h["family_counted_income"]), fmt(h["uncounted_income"]), h["unit_size"]
    pci = fmt(h["per_capita_income"])
    values = {"family_counted_income": money(h["family_counted_income"]), "unit_size": n,
              "per_capita_income": money(h["per_capita_income"]),
              "uncounted_income": money(h["uncounted_income"])}
    zh = (f"家庭月收入{income}元（基础养老金、社会救助款物、优待抚恤金等{other}元不计入），"
          f"{n}人，月人均{pci}元")
    en = (f"Counted family income {income} yuan/month (basic pension, assistance and preferential "
          f"pensions of {other} not counted), {n} member(s), {pci} per capita")
    return _entry("income.per_capita", True, values, zh, en)


def _within(ok: bool) -> tuple[str, str]:
    return ("未超过", "within") if ok else ("超过", "above")


def _assets(h: dict) -> list[dict]:
    ok, n = h["assets_deposits_pass"], h["unit_size"]
    zh_w, en_w = _within(ok)
    months, dep, lim = h["deposits_months_of_standard"], fmt(h["deposits"]), fmt(h["deposits_limit"])
    deposits = _entry(
        "assets.deposits", ok,
        {"deposits": money(h["deposits"]), "limit": money(h["deposits_limit"]), "months_of_standard": months,
         "dibao_standard": money(h["dibao_standard"]), "members": n},
        f"存款等货币财产{dep}元，{zh_w}{months:g}个月低保标准×{n}人={lim}元",
        f"Monetary assets {dep} yuan {en_w} {months:g} months × standard × {n} = {lim}")
    ok = h["assets_homes_pass"]
    zh_w, en_w = _within(ok)
    homes = _entry(
        "assets.homes", ok, {"homes": h["homes"], "max_homes": h["max_homes"]},
        f"房屋{h['homes']}套，{zh_w}{h['max_homes']}套",
        f"{h['homes']} home(s), {en_w} the limit of {h['max_homes']}")
    ok, allowed = h["assets_vehicles_pass"], bool(h["cars_allowed"])
    counted, exempt = h["countable_vehicle_count"], h["motorcycle_count"] + h["disability_vehicle_count"]
    verdict_zh = "当地允许拥有汽车" if allowed else ("无汽车，符合" if ok else "拥有汽车，不符合财产条件")
    verdict_en = "cars allowed locally" if allowed else ("no car: passes" if ok else "owns a car: fails")
    cars = _entry(
        "assets.cars", ok,
        {"countable_vehicles": counted, "exempt_vehicles": exempt, "cars_allowed": allowed},
        f"计入的机动车{counted}辆（摩托车、残疾人机动轮椅车{exempt}辆豁免）；{verdict_zh}",
        f"{counted} countable vehicle(s) ({exempt} motorcycle/disability vehicle exempt); {verdict_en}")
    ok = h["assets_business_pass"]
    zh_w, en_w = _within(ok)
    cap, lim = fmt(h["business_capital"]), fmt(h["business_capital_limit"])
    business = _entry(
        "assets.business_capital", ok,
        {"business_capital": money(h["business_capital"]), "limit": money(h["business_capital_limit"])},
        f"市场主体注册资本{cap}元，{zh_w}{lim}元",
        f"Registered business capital {cap} yuan, {en_w} {lim}")
    return [deposits, homes, cars, business]


def _dibao_income(h: dict) -> dict:
    ok = h["dibao_income_below_standard"]
    pci, std = fmt(h["per_capita_income"]), fmt(h["dibao_standard"])
    return _entry(
        "dibao.income_below_standard", ok,
        {"per_capita_income": money(h["per_capita_income"]), "dibao_standard": money(h["dibao_standard"])},
        f"月人均收入{pci}元{'低于' if ok else '不低于'}低保标准{std}元",
        f"Per-capita income {pci} is {'below' if ok else 'not below'} the dibao standard {std}")


def _dibao_household(h: dict) -> dict:
    ok, banded = h["dibao_eligible"], bool(h["dibao_banded_payment"])
    n, amount = h["dibao_covered_members"], fmt(h["dibao_household_benefit"])
    std, pci = fmt(h["dibao_standard"]), fmt(h["per_capita_income"])
    values = {"per_capita_income": money(h["per_capita_income"]),
              "dibao_standard": money(h["dibao_standard"]), "covered_members": n,
              "amount": money(h["dibao_household_benefit"]), "banded": banded}
    if not ok:
        zh, en = "家庭收入或财产不符合低保条件", "The household does not qualify for dibao (income or assets)"
    elif n == 0:
        zh = "家庭收入和财产符合低保条件；成员均为特困人员，按特困人员供养，不另发低保金"
        en = "Income and assets meet the dibao test; every member is extremely poor and supported as such"
    else:
        how_zh = "按分档" if banded else f"(标准{std}−人均收入{pci})×"
        how_en = "banded, " if banded else f"({std} − {pci}) × "
        zh = f"家庭符合低保条件：{how_zh}{n}人 = {amount}元/月（特困人员另行供养，不重复计算）"
        en = (f"The household qualifies for dibao: {how_en}{n} covered member(s) = {amount} yuan/month "
              "(extremely poor members are supported instead)")
    return _entry("dibao.household", ok, values, zh, en)


def _work_capacity(x: dict, p: Any) -> dict:
    nwc = p.extremely_poor.no_work_capacity
    old, young = nwc.elderly_min_age, nwc.minor_age_below
    age, cat, grade = x["age"], x["disability_category"], x["disability_grade"]
    limit = x["disability_work_grade_limit"]
    if age >= old:
        values = {"age": age, "age_limit": old}
        zh, en = f"年满{old}周岁，视为无劳动能力", f"Aged {old} or over: no work capacity"
    elif age < young:
        values = {"age": age, "age_limit": young}
        zh, en = f"未满{young}周岁，视为无劳动能力", f"Under {young}: no work capacity"
    elif x["no_work_capacity"]:
        values = {"age": age, "disability_category": cat, "disability_grade": grade, "grade_limit": limit}
        zh = f"{CATEGORY_ZH[cat]}残疾{grade}级（1至{limit}级视为无劳动能力），无劳动能力"
        en = f"{cat.capitalize()} disability grade {grade} (grades 1–{limit} qualify): no work capacity"
    else:
        values = {"age": age, "age_limits": [young, old], "disability_category": cat,
                  "disability_grade": grade, "grade_limit": limit}
        zh = f"{age}周岁，且无符合条件的残疾，具有劳动能力"
        en = f"Aged {age} with no qualifying disability: has work capacity"
    return _entry("extremely_poor.no_work_capacity", x["no_work_capacity"], values, zh, en, x["id"])


def _extremely_poor(x: dict, h: dict, p: Any) -> list[dict]:
    pid, age = x["id"], x["age"]
    out = [_work_capacity(x, p)]
    limit = p.extremely_poor.continued_support.minor_age_below
    if not x["no_work_capacity"] and (age < limit or x["student"]):
        ok = x["continued_minor_support"]
        out.append(_entry(
            "extremely_poor.minor_continued_support", ok,
            {"age": age, "age_limit": limit, "student": x["student"]},
            (f"未满{limit}周岁或仍在校就读，可继续享有救助供养待遇" if ok
             else f"已满{limit}周岁且不在校，不适用继续供养"),
            (f"Under {limit} or still in school: keeps extremely-poor support" if ok
             else f"{limit} or over and not in school: continued support does not apply"), pid))
    ok = x["no_means_of_living"]
    pci, std = fmt(h["per_capita_income"]), fmt(h["dibao_standard"])
    out.append(_entry(
        "extremely_poor.no_means_of_living", ok,
        {"per_capita_income": money(h["per_capita_income"]), "dibao_standard": money(h["dibao_standard"]),
         "assets_pass": bool(h["assets_pass"])},
        (f"月人均收入{pci}元低于低保标准{std}元且财产符合规定，无生活来源" if ok
         else f"月人均收入{pci}元（低保标准{std}元）或财产不符合无生活来源条件"),
        (f"Per-capita income {pci} below the standard {std} and assets pass: no means of living" if ok
         else f"Per-capita income {pci} (standard {std}) or assets: has means of living"), pid))
    sup = x["supporter"]
    out.append(_entry("extremely_poor.no_supporter", x["no_capable_supporter"], {"supporter": sup},
                      SUPPORTER_ZH[sup], SUPPORTER_EN[sup], pid))
    if x["extremely_poor"]:
        level, failed = x["care_level"], x["self_care_items_failed"]
        out.append(_entry(
            "extremely_poor.care_level", True, {"self_care_items_failed": failed, "care_level": level},
            f"6项生活自理指标中{failed}项不能达到：{CARE_ZH[level]}",
            f"{failed} of 6 self-care items not met: {CARE_EN[level]}", pid))
        basic, care = x["extremely_poor_basic_benefit"], x["extremely_poor_care_benefit"]
        total = x["extremely_poor_benefit"]
        out.append(_entry(
            "extremely_poor.benefit", True,
            {"basic_standard": money(basic), "care_standard": money(care), "care_level": level,
             "amount": money(total)},
            f"基本生活标准{fmt(basic)}元 + {CARE_ZH[level]}照料护理标准{fmt(care)}元 = {fmt(total)}元/月",
            f"Basic standard {fmt(basic)} + care standard ({CARE_EN[level]}) {fmt(care)} = "
            f"{fmt(total)} yuan/month", pid))
    return out


def _edge(h: dict) -> list[dict]:
    ok, mult = h["edge_income_below_multiple"], h["edge_multiplier"]
    limit = mult * h["dibao_standard"]
    pci, lim = fmt(h["per_capita_income"]), fmt(limit)
    out = [_entry(
        "edge.income_below_multiple", ok,
        {"per_capita_income": money(h["per_capita_income"]), "multiplier": mult,
         "dibao_standard": money(h["dibao_standard"]), "limit": money(limit)},
        f"月人均收入{pci}元{'低于' if ok else '不低于'}低保标准的{mult:g}倍（{lim}元）",
        f"Per-capita income {pci} is {'below' if ok else 'not below'} {mult:g} × the standard ({lim})")]
    if h["edge_expenditure_type"]:
        ok, adjusted = h["edge_expenditure_test"], h["edge_adjusted_per_capita_income"]
        disp, costs, adj = (fmt(h["disposable_income_prev_year_monthly"]),
                            fmt(h["edge_deductible_expenditure_12m"]), fmt(adjusted))
        below = "低于" if h["rigid_income_below_disposable"] else "不低于"
        under = "低于" if adjusted < limit - MONEY_EPSILON else "不低于"
        out.append(_entry(
            "edge.expenditure_type", ok,
            {"per_capita_income": money(h["per_capita_income"]),
             "disposable_income": money(h["disposable_income_prev_year_monthly"]),
             "deductible_12m": money(h["edge_deductible_expenditure_12m"]),
             "adjusted_per_capita_income": money(adjusted), "limit": money(limit)},
            (f"支出型：月人均收入{pci}元{below}上年人均可支配收入{disp}元；扣除12个月医疗、教育、"
             f"康复、受灾支出{costs}元后人均{adj}元，{under}{lim}元"),
            (f"Expenditure type: per-capita income {pci} vs last year's disposable income {disp}; after "
             f"deducting 12 months' medical, education, rehabilitation and disaster costs ({costs}) it is "
             f"{adj} per capita against {lim}: {'passes' if ok else 'fails'}")))
    return out


def _single_person(x: dict, h: dict) -> dict:
    ok, own, std = x["single_person_dibao"], fmt(x["counted_income"]), fmt(h["dibao_standard"])
    amount = fmt(x["single_person_dibao_benefit"])
    values = {"disability_category": x["disability_category"], "disability_grade": x["disability_grade"],
              "critical_illness": x["critical_illness"], "in_category": x["single_person_dibao_category"],
              "own_income": money(x["counted_income"]), "dibao_standard": money(h["dibao_standard"]),
              "amount": money(x["single_person_dibao_benefit"])}
    if ok:
        zh = (f"低保边缘家庭中的重残或重病人员，参照单人户纳入低保：标准{std}元−本人收入{own}元 = "
              f"{amount}元/月")
        en = (f"Severely disabled or critically ill member of a dibao-edge family, covered alone: standard "
              f"{std} − own income {own} = {amount} yuan/month")
    elif x["single_person_dibao_category"]:
        zh = f"属单人保对象类别，但本人收入{own}元不低于低保标准{std}元"
        en = f"In a single-person category, but own income {own} is not below the standard {std}"
    else:
        zh = "不属于单人保对象（一、二级残疾，三级智力、精神残疾，重特大疾病）"
        en = ("Not in a single-person category (disability grade 1–2, grade 3 intellectual/mental, "
              "critical illness)")
    return _entry("dibao.single_person", ok, values, zh, en, x["id"])


def _rigid(h: dict, p: Any) -> list[dict]:
    ok = h["rigid_income_below_disposable"]
    pci, disp = fmt(h["per_capita_income"]), fmt(h["disposable_income_prev_year_monthly"])
    out = [_entry(
        "rigid.income_below_disposable", ok,
        {"per_capita_income": money(h["per_capita_income"]),
         "disposable_income": money(h["disposable_income_prev_year_monthly"])},
        f"月人均收入{pci}元{'低于' if ok else '不低于'}上年人均可支配收入{disp}元（月）",
        f"Per-capita income {pci} is {'below' if ok else 'not below'} last year's disposable income "
        f"{disp}/month")]
    share, ratio = h["rigid_expenditure_share"], h["rigid_expenditure_ratio"]
    ok, validity = h["rigid_expenditure_above_ratio"], p.rigid.validity_months
    shown = None if math.isinf(share) else round(share, 4)
    spent, income = fmt(h["rigid_expenditure_12m"]), fmt(h["family_income_12m"])
    if shown is None:
        of_zh, of_en = "，家庭无收入", " with no family income"
    else:
        of_zh, of_en = f"，占家庭收入{income}元的{share:.1%}", f" is {share:.1%} of family income {income}"
    out.append(_entry(
        "rigid.expenditure_ratio", ok,
        {"rigid_expenditure_12m": money(h["rigid_expenditure_12m"]),
         "family_income_12m": money(h["family_income_12m"]), "share": shown, "threshold": ratio,
         "validity_months": validity},
        (f"12个月刚性支出{spent}元{of_zh}，{'超过' if ok else '未超过'}{ratio:.0%}"
         f"（认定有效期{validity}个月）"),
        (f"Rigid expenditure over 12 months {spent}{of_en}: {'above' if ok else 'not above'} {ratio:.0%} "
         f"(valid {validity} months)")))
    return out


def _tier(h: dict) -> dict:
    tier = h["household_tier"]
    return _entry("tier.household", tier != "none", {"household_tier": tier},
                  f"家庭层级：{TIER_ZH[tier]}", f"Household tier: {TIER_EN[tier]}")
