"""The verification report for people: rich tables with Chinese labels (names and identity
numbers are already masked in the report)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from safetynet.rules.common import DisabilityCategory
from safetynet.verification import model

FEED_LABELS = {"social_insurance": "人社", "vehicle": "车管", "property": "不动产", "business": "市场监管",
               "deposits": "银行", "housing_fund": "公积金", "medical": "医保", "education": "教育",
               "disaster": "应急", "disability": "残联", "death": "殡葬·卫健"}
SOURCE_LABELS = {"income": "收入", "vehicles": "车辆", "property": "不动产", "business": "工商",
                 "deposits": "存款", "housing_fund": "公积金", "medical": "医疗自付", "education": "教育费用",
                 "disaster": "灾害损失", "disability": "残疾", "student": "在学", "death": "死亡"}
STAGE_LABELS = {"preschool": "学前", "primary": "小学", "junior": "初中", "senior": "高中",
                "vocational": "中职", "college": "大专及以上"}


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def sources(member: dict) -> list[tuple[str, dict]]:
    """(what, trace) for every row listed behind a member's figures."""
    out: list[tuple[str, dict]] = []
    if member["income"]:
        for item in member["income"]["items"]:
            out += [(f"收入·{item['label']}", r) for r in item["rows"]]
    for key, sec in member["assets"].items():
        out += [(SOURCE_LABELS[key], r) for r in sec["rows"]]
    for key, sec in member["expenditure"].items():
        out += [(SOURCE_LABELS[key], r) for r in sec["rows"]]
    st = member["status"]
    out += [("残疾", r) for r in st["disability_rows"]] + [("在学", r) for r in st["student_rows"]]
    out += [("死亡", r) for r in st["death_rows"]]
    return out


def print_report(console: Console, r: dict) -> None:
    w = r["window"]
    console.print(f"[bold]家庭经济状况核对报告[/bold]  户号 {r['household_no']}  区划 {r['region_code']}  "
                  f"{r['registration_label']}")
    console.print(f"核对期间 {w['first_month']} 至 {w['last_month']}（截至 {w['end']}）  "
                  f"报告日期 {r['report_date']}  生成 {r['generated_by']} {r['generated_at'][:19]}")
    auths = "；".join(f"#{a['id']} {a['signed_on']} {a['signer']} {a['document_ref']}"
                     for a in r["authorisations"])
    console.print(f"授权：{auths}")
    console.print(f"核对范围：{'、'.join(r['scope_labels'].values())}" + (
        f"；未授权（未核对）：{'、'.join(model.SCOPES[s] for s in r['not_authorised'])}"
        if r["not_authorised"] else ""))

    t = Table(title="家庭成员")
    for col in ("成员", "姓名", "身份证号", "与户主关系", "出生日期", "残疾", "在学", "死亡记录"):
        t.add_column(col)
    for m in r["members"]:
        d = m["status"]["disability"]
        t.add_row(m["key"], m["name"], m["id_number"], m["relation_label"], m["birth_date"],
                  f"{DisabilityCategory[d['category']].value.split()[0]} {d['grade']}级" if d else "",
                  STAGE_LABELS.get(m["status"]["student_stage"] or "", ""),
                  "有" if m["status"]["deceased"] else "")
    console.print(t)

    tot = r["totals"]
    if "income" in tot:
        inc = tot["income"]
        items = [i for i in inc["items"] if i["total_12m_fen"]]
        t = Table(title="家庭收入（元）：近12个月逐月")
        t.add_column("月份")
        for i in items:
            t.add_column(f"{i['label']}\n{'计入' if i['counted'] else '不计入'}", justify="right")
        for mo in items[0]["months"] if items else []:
            t.add_row(mo, *(yuan(i["months"][mo]) for i in items))
        t.add_row("12个月合计", *(yuan(i["total_12m_fen"]) for i in items))
        t.add_row(f"月均（{r['months_observed']}个月有数据）", *(yuan(i["average_fen"]) for i in items))
        console.print(t)
        console.print(f"计入收入月均 {yuan(inc['counted_average_fen'])} 元，人均 "
                      f"{yuan(inc['per_capita_counted_average_fen'])} 元；不计入收入月均 "
                      f"{yuan(inc['excluded_average_fen'])} 元")
        t = Table(title="成员收入（元）")
        for col in ("成员", "项目", "计入", "12个月合计", "月均", "来源记录"):
            t.add_column(col)
        for m in r["members"]:
            for i in m["income"]["items"]:
                if i["rows"]:
                    t.add_row(m["key"], i["label"], "计入" if i["counted"] else "不计入",
                              yuan(i["total_12m_fen"]), yuan(i["average_fen"]), str(len(i["rows"])))
        console.print(t)

    a = tot["assets"]
    t = Table(title=f"家庭财产（截至 {w['end']}）")
    for col in ("项目", "数量", "金额（元）"):
        t.add_column(col)
    if "vehicles" in a:
        v = a["vehicles"]
        kinds = "，".join(f"{model.VEHICLE_LABELS[k]}{n}" for k, n in v["by_type"].items() if n)
        t.add_row("车辆" + (f"（{kinds}）" if kinds else ""), str(v["count"]), yuan(v["value_fen"]))
        area = a["property"]["residential_area_m2"]
        t.add_row(f"住房（面积 {area:g} ㎡）", str(a["property"]["homes"]), "")
        t.add_row("其他不动产", str(a["property"]["other"]), "")
        t.add_row("工商登记（注册资本）", str(a["business"]["count"]), yuan(a["business"]["capital_fen"]))
    if "deposits" in a:
        t.add_row("银行存款", "", yuan(a["deposits"]["balance_fen"]))
    if "housing_fund" in a:
        t.add_row("住房公积金缴存（12个月）", "", yuan(a["housing_fund"]["total_12m_fen"]))
    console.print(t)

    t = Table(title="刚性支出（近12个月，元）与扣减")
    for col in ("项目", "金额（元）", "说明"):
        t.add_column(col)
    for e in tot["expenditure"].values():
        t.add_row(e["label"], yuan(e["total_12m_fen"]), "无数据来源" if e["no_source"] else "")
    for d in tot["deductions"]:
        t.add_row(f"扣减：{d['label']}", yuan(d["amount_fen"]), "适用" if d["applied"] else "不适用")
    console.print(t)

    t = Table(title="数据来源（每一数字对应的部门数据记录）")
    for col in ("成员", "数据项", "部门", "文件", "批次", "行", "记录编号", "日期", "金额（元）"):
        t.add_column(col)
    for m in r["members"]:
        for what, s in sources(m):
            t.add_row(m["key"], what, FEED_LABELS.get(s["feed"], s["feed"]), s["file"] or "",
                      str(s["load_id"] or ""), str(s["line"] or ""),
                      (s["record_id"] or "") + (f"（第{s['version']}版）" if (s["version"] or 1) > 1 else ""),
                      s["date"] or "",
                      yuan(s["amount_fen"]))
    console.print(t)
    if r["assess_gaps"]:
        console.print("评估输入说明：" + "；".join(r["assess_gaps"]))
