"""Rows of the event and monthly feeds for one month, rendered from the plan.

Each builder returns a Block: the people the rows are about, the feed's own columns
(dates as day numbers, money as fen, text as Arrow strings) and the planted events the
rows carry. The service adds the common columns, damages some id numbers and writes the
files. Builders draw from their own random stream per (feed, month), so a month's file
does not depend on which other feeds were generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.synth import model as m
from safetynet.synth.people import NEWBORN, REGISTER
from safetynet.synth.population import RELATIONS
from safetynet.synth.records import days_in, record_ids
from safetynet.synth.timeline import World
from safetynet.synth.truth import EventChunk, id_lists

DEATH_SOURCES = ("殡葬管理所", "医疗机构", "公安派出所")
MED_KINDS = ("outpatient", "chronic", "inpatient", "critical")
_MED_KIND_P = (0.55, 0.25, 0.18, 0.02)
_MED_COST = ((300, 0.8, 0.40, 0.60), (800, 0.6, 0.60, 0.75), (9000, 0.7, 0.60, 0.80),
             (25000, 0.6, 0.65, 0.85))  # median yuan, sigma, fund share low/high
DIAGNOSES = {
    "outpatient": ("上呼吸道感染", "高血压", "胃炎", "关节炎", "皮肤病", "牙科疾病"),
    "chronic": ("高血压", "糖尿病", "冠心病", "慢性阻塞性肺病", "类风湿关节炎", "精神障碍"),
    "inpatient": ("肺炎", "骨折", "脑梗死", "冠心病", "胆结石", "白内障"),
    "critical": ("恶性肿瘤", "尿毒症", "白血病", "脑出血", "重大器官移植", "严重精神障碍"),
}
LARGE_DIAGNOSES = ("恶性肿瘤", "尿毒症", "白血病", "脑出血", "严重外伤", "急性心肌梗死")
DISASTERS = ("洪涝", "干旱", "风雹", "台风", "低温冷冻", "火灾")
HOTLINE_CATEGORIES = ("help_request", "complaint", "report")
HOTLINE_TEXT = {
    "help_request": ("家中老人住院，医疗费用负担重，申请救助", "失业后家庭生活困难，请求帮助",
                     "房屋受灾，请求临时救助", "孩子考上大学，学费困难，请求帮助",
                     "丈夫去世，独自抚养孩子，生活困难", "身患重病无力支付医药费，请求救助"),
    "complaint": ("反映低保审批时间过长", "反映临时救助金未按时发放", "反映村里办事态度不好"),
    "report": ("举报有人家中有车仍享受低保", "举报村干部亲属违规享受低保", "举报有人去世后仍在领取救助金"),
}
BANKS = ("中国农业银行", "中国邮政储蓄银行", "农村商业银行", "中国工商银行", "中国建设银行",
         "中国银行")
_BANK_P = (0.25, 0.25, 0.25, 0.1, 0.1, 0.05)
_MOBILE_PREFIX = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156,
                           157, 158, 159, 166, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189,
                           199], dtype=np.int64)


@dataclass
class Block:
    person: np.ndarray
    cols: dict[str, object]
    record_id: pa.Array
    events: list[EventChunk] = field(default_factory=list)


def labels(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(np.asarray(codes, np.int64)))


def constant(text: str, n: int) -> pa.Array:
    return labels((text,), np.zeros(n, np.int64))


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    return _MOBILE_PREFIX[rng.integers(0, len(_MOBILE_PREFIX), n)] * 10**8 + rng.integers(
        0, 10**8, n)


class EventFeeds:
    """Builders for population, death, social_insurance, housing_fund, medical, disaster,
    hotline and deposits. Holds what one month hands to the next (last month's wage rows)."""

    def __init__(self, w: World, h_phone: np.ndarray):
        self.w = w
        self.h_phone = h_phone
        self.prev_wage: tuple[np.ndarray, pa.Array] | None = None
        self.pop_deaths: tuple[np.ndarray, pa.Array] | None = None
        p, reg = w.people, w.reg
        rng = w.rng("rigid")
        # rigid-expenditure families: one chronic patient with costs near the family income
        rig_h = np.flatnonzero(reg.h_tier == m.RIGID)
        self.rigid_patient = reg.h_first[rig_h] + np.floor(
            rng.random(len(rig_h)) * reg.h_size[rig_h]).astype(np.int64)
        income = reg.h_income_pc[rig_h].astype(np.int64) * reg.h_size[rig_h]
        oop = income * rng.uniform(*m.RIGID_OOP_SHARE, len(rig_h))
        self.rigid_oop = np.minimum(oop, m.LARGE_OOP_MIN - 100).astype(np.int64) // 100 * 100
        county = w.geo.village_county[p.village]
        city = np.array(w.geo.county_city_name)
        self.city_of = county
        self.pension_agency = pa.array([c + "社会保险事业中心" for c in city])
        self.ub_agency = pa.array([c + "公共就业和人才服务中心" for c in city])

    def _ids(self, feed: str, k: int, n: int) -> pa.Array:
        prefix = m.FEED_BY_NAME[feed].prefix + self.w.labels[k].replace("-", "")
        return record_ids(prefix, np.arange(1, n + 1), 8)

    # -- public security: births, deaths, moves, marriages --------------------------------
    def population(self, k: int) -> Block:
        w, p, rng = self.w, self.w.people, self.w.rng("population", k)
        first, last = int(w.first[k]), int(w.last[k])
        dead = np.flatnonzero((w.death_day >= first) & (w.death_day <= last))
        born = np.flatnonzero((p.origin == NEWBORN) & (p.birth >= first) & (p.birth <= last))
        living = w.alive_at(last) & (p.origin != NEWBORN)
        alive = np.flatnonzero(living)
        adults = np.flatnonzero(living & (w.age(first) >= 20))
        people, events, dates = [dead, born], [np.zeros(len(dead)), np.ones(len(born))], [
            np.minimum(w.death_day[dead] + rng.integers(0, 6, len(dead)), last),
            np.minimum(p.birth[born] + rng.integers(3, 12, len(born)), last)]
        names = ("death", "birth", "move_in", "move_out", "marriage", "divorce", "update")
        for code, ev in enumerate(names[2:], start=2):
            pool = adults if ev in ("marriage", "divorce") else alive
            chosen = rng.choice(pool, size=min(len(pool), rng.poisson(
                m.POPULATION_EVENT_P[ev] * p.n_reg)), replace=False)
            people.append(chosen)
            events.append(np.full(len(chosen), code))
            dates.append(days_in(rng, first, last, len(chosen)))
        person = np.concatenate(people)
        event = np.concatenate(events).astype(np.int64)
        date = np.concatenate(dates).astype(np.int32)
        order = np.argsort(date, kind="stable")
        person, event, date = person[order], event[order], date[order]
        ids = self._ids("population", k, len(person))
        rel = np.where(p.origin[person] == REGISTER, p.relation[person], 0)
        rel[p.origin[person] == NEWBORN] = 2
        is_death = event == 0
        sort = np.argsort(person[is_death])
        self.pop_deaths = (person[is_death][sort], ids.filter(pa.array(is_death)).take(
            pa.array(sort)))
        return Block(person, {
            "sex": labels(("F", "M"), p.sex[person]),
            "hukou_region": pa.array(w.geo.village_code[p.village[person]]),
            "household_no": pc.cast(pa.array(p.hukou_no[person]), pa.string()),
            "relation": labels(RELATIONS, rel),
            "event": labels(names, event),
            "event_date": date,
        }, ids)

    # -- civil affairs / health: deaths (some reported twice) ------------------------------
    def death(self, k: int) -> Block:
        w, rng = self.w, self.w.rng("death", k)
        first, last = int(w.first[k]), int(w.last[k])
        dead = np.flatnonzero((w.death_day >= first) & (w.death_day <= last))
        source = rng.choice(3, size=len(dead), p=(0.5, 0.35, 0.15))
        twice = rng.random(len(dead)) < m.DOUBLE_DEATH_REPORT_P
        person = np.concatenate([dead, dead[twice]])
        src = np.concatenate([source, (source[twice] + 1) % 3])
        order = np.argsort(w.death_day[person], kind="stable")
        ids = self._ids("death", k, len(person))
        pos = np.empty(len(person), np.int64)
        pos[order] = np.arange(len(person))  # final row of each unsorted entry
        first_id = ids.take(pa.array(pos[:len(dead)]))
        second = np.full(len(dead), -1, np.int64)
        second[np.flatnonzero(twice)] = pos[len(dead):]
        second_id = pc.if_else(pa.array(second >= 0), ids.take(pa.array(np.maximum(second, 0))),
                               pa.scalar(None, pa.string()))
        related = None
        if self.pop_deaths is not None and len(dead):
            pp, pids = self.pop_deaths
            at = np.minimum(np.searchsorted(pp, dead), max(len(pp) - 1, 0))
            related = id_lists(pids.take(pa.array(at))) if len(pp) else None
        events = [EventChunk("death", dead, w.labels[k], "death", id_lists(first_id, second_id),
                             "population" if related is not None else None, related,
                             main_earner=w.main_earner[dead])]
        person, src = person[order], src[order]
        return Block(person, {"death_date": w.death_day[person],
                              "source": labels(DEATH_SOURCES, src)}, ids, events)

    # -- human resources: wages, pensions, unemployment benefit -----------------------------
    def social_insurance(self, k: int) -> Block:
        w, p, rng = self.w, self.w.people, self.w.rng("social_insurance", k)
        first = int(w.first[k])
        alive = w.death_day >= first
        wage_p = np.flatnonzero((p.wage > 0) & alive & (w.wage_stop > k))
        factor = np.where(w.cut_from[wage_p] <= k, w.cut_factor[wage_p], 1.0)
        noise = 1 + rng.uniform(-m.WAGE_NOISE, m.WAGE_NOISE, len(wage_p))
        wage_amt = np.rint(p.wage[wage_p] * factor * noise).astype(np.int64)
        pen_p = np.flatnonzero((p.pension > 0) & alive)
        ub_p = np.flatnonzero((w.ub_from <= k) & (w.ub_to > k) & alive)
        person = np.concatenate([wage_p, pen_p, ub_p])
        n_w, n_p = len(wage_p), len(pen_p)
        kind = np.concatenate([np.zeros(n_w), np.ones(n_p), np.full(len(ub_p), 2)])
        amount = np.concatenate([wage_amt, p.pension[pen_p], w.ub_amount[ub_p]])
        employer = pa.concat_arrays([
            p.employer_names.take(pa.array(np.maximum(p.employer[wage_p], 0))),
            self.pension_agency.take(pa.array(self.city_of[pen_p])),
            self.ub_agency.take(pa.array(self.city_of[ub_p]))])
        ids = self._ids("social_insurance", k, len(person))
        wage_ids = ids.slice(0, n_w)
        events = self._income_drop_events(k, wage_p, wage_ids)
        self.prev_wage = (wage_p, wage_ids)
        return Block(person, {
            "month": constant(w.labels[k], len(person)),
            "kind": labels(("wage", "pension", "unemployment_benefit"), kind),
            "employer": employer,
            "amount": amount,
        }, ids, events)

    def _income_drop_events(self, k, wage_p, wage_ids) -> list[EventChunk]:
        w = self.w
        d = w.drops
        sel = d["month"] == k
        if not sel.any() or self.prev_wage is None:
            return []
        who, loss = d["person"][sel], d["job_loss"][sel]
        prev_p, prev_ids = self.prev_wage
        at_prev = np.searchsorted(prev_p, who)
        prev = prev_ids.take(pa.array(np.minimum(at_prev, len(prev_p) - 1)))
        at_now = np.minimum(np.searchsorted(wage_p, who), max(len(wage_p) - 1, 0))
        now = wage_ids.take(pa.array(at_now)) if len(wage_p) else pa.nulls(len(who), pa.string())
        now = pc.if_else(pa.array(loss), pa.scalar(None, pa.string()), now)
        # the month's (cut) wage row first, then the previous month's full wage
        first_id = pc.if_else(pa.array(loss), prev, now)
        second_id = pc.if_else(pa.array(loss), pa.scalar(None, pa.string()), prev)
        # the unemployment registration that came with a job loss, where there was one
        rec = w.records["unemployment"]
        r_idx = np.flatnonzero((rec.event >= 0) & (rec.start >= w.first[k])
                               & (rec.start <= w.last[k]))
        r_idx = r_idx[np.argsort(rec.person[r_idx], kind="stable")]
        found = np.zeros(len(who), bool)
        at = np.zeros(len(who), np.int64)
        if len(r_idx):
            at = np.minimum(np.searchsorted(rec.person[r_idx], who), len(r_idx) - 1)
            found = rec.person[r_idx][at] == who
        u_ids = record_ids(m.FEED_BY_NAME["unemployment"].prefix,
                           r_idx[at[found]] + 1 if len(r_idx) else np.empty(0, np.int64), 10)
        related_lists = pa.ListArray.from_arrays(
            pa.array(np.concatenate([[0], np.cumsum(found)]).astype(np.int32)), u_ids)
        pct = np.rint(w.cut_factor[who] * 100).astype(np.int64)
        detail = pc.if_else(pa.array(loss), pa.scalar("job_loss"), pc.binary_join_element_wise(
            pa.scalar("wage_cut_to_"), pc.cast(pa.array(pct), pa.string()), pa.scalar("pct"),
            ""))
        return [EventChunk("income_drop", who, w.labels[k], "social_insurance",
                           id_lists(first_id, second_id), "unemployment", related_lists, detail)]

    def housing_fund(self, k: int) -> Block:
        w, p = self.w, self.w.people
        first = int(w.first[k])
        person = np.flatnonzero((p.hf_rate > 0) & (w.death_day >= first) & (w.wage_stop > k))
        factor = np.where(w.cut_from[person] <= k, w.cut_factor[person], 1.0)
        deposit = np.rint(p.wage[person] * factor * p.hf_rate[person]).astype(np.int64)
        return Block(person, {"month": constant(w.labels[k], len(person)), "deposit": deposit},
                     self._ids("housing_fund", k, len(person)))

    # -- medical insurance: settlements, some very large ------------------------------------
    def medical(self, k: int) -> Block:
        w, p, rng = self.w, self.w.people, self.w.rng("medical", k)
        first, last = int(w.first[k]), int(w.last[k])
        age = w.age(first)
        factor = np.select([age >= 60, age < 18], [1.6, 0.7], 0.8)
        able = (w.death_day >= first) & (p.birth < first) & (p.origin != NEWBORN)
        bg = np.flatnonzero(able & (rng.random(p.n) < m.MEDICAL_P * factor))
        kind = rng.choice(4, size=len(bg), p=_MED_KIND_P)
        median, sigma, f_lo, f_hi = (np.array(c)[kind] for c in zip(*_MED_COST, strict=True))
        total = rng.lognormal(np.log(median), sigma) * 100
        fund_share = rng.uniform(f_lo, f_hi)
        oop = total * (1 - fund_share)
        cap = (m.LARGE_OOP_MIN - 100) / np.maximum(oop, 1)
        scale = np.minimum(cap, 1.0)  # background bills stay below the planted range
        total, oop = total * scale, oop * scale
        end = np.minimum(w.death_day[bg], last)
        day = first + np.floor(rng.random(len(bg)) * (end - first + 1)).astype(np.int32)
        diag_bg = rng.integers(0, 6, len(bg))
        # rigid-expenditure patients: a bill every month
        rp = self.rigid_patient[w.death_day[self.rigid_patient] > last]
        r_oop = self.rigid_oop[w.death_day[self.rigid_patient] > last]
        r_total = r_oop / rng.uniform(0.35, 0.5, len(rp))
        r_kind = np.where(rng.random(len(rp)) < 0.7, 1, 3)
        pl = w.planted["medical"]
        sel = pl["month"] == k
        pp = pl["person"][sel]
        p_kind = np.where(rng.random(len(pp)) < 0.7, 2, 3)
        person = np.concatenate([bg, rp, pp])
        kinds = np.concatenate([kind, r_kind, p_kind]).astype(np.int64)
        totals = np.concatenate([total, r_total, pl["total"][sel]]).astype(np.int64)
        oops = np.concatenate([oop, r_oop, pl["oop"][sel]]).astype(np.int64)
        oops = np.minimum(oops, totals)
        days = np.concatenate([day, days_in(rng, first, last, len(rp)), pl["day"][sel]])
        diag = pc.if_else(
            pa.array(np.arange(len(person)) >= len(bg) + len(rp)),
            labels(LARGE_DIAGNOSES, rng.integers(0, 6, len(person))),
            pa.concat_arrays([
                pa.array([d for kd in MED_KINDS for d in DIAGNOSES[kd]]).take(
                    pa.array(np.concatenate([kind * 6 + diag_bg, r_kind * 6 + rng.integers(
                        0, 6, len(rp))]).astype(np.int64))),
                pa.nulls(len(pp), pa.string())]))
        order = np.argsort(days, kind="stable")
        ids = self._ids("medical", k, len(person))
        pos = np.empty(len(order), np.int64)
        pos[order] = np.arange(len(order))
        planted_pos = pos[len(bg) + len(rp):]
        events = [EventChunk("medical_large", pp, w.labels[k], "medical",
                             id_lists(ids.take(pa.array(planted_pos))))]
        person, kinds, totals, oops = person[order], kinds[order], totals[order], oops[order]
        return Block(person, {
            "settled_on": days[order].astype(np.int32),
            "kind": labels(MED_KINDS, kinds),
            "total_cost": totals,
            "fund_paid": totals - oops,
            "out_of_pocket": oops,
            "diagnosis_group": diag.take(pa.array(order)),
        }, ids, events)

    # -- emergency management --------------------------------------------------------------
    def disaster(self, k: int) -> Block:
        w = self.w
        pl = w.planted["disaster"]
        sel = np.flatnonzero(pl["month"] == k)
        sel = sel[np.argsort(pl["day"][sel], kind="stable")]
        person = pl["person"][sel]
        ids = self._ids("disaster", k, len(person))
        events = [EventChunk("disaster_loss", person, w.labels[k], "disaster", id_lists(ids))]
        return Block(person, {
            "event_type": labels(DISASTERS, pl["type"][sel]),
            "occurred_on": pl["day"][sel].astype(np.int32),
            "loss_estimate": pl["loss"][sel],
        }, ids, events)

    # -- 12345: help requests (planted), complaints and reports ------------------------------
    def hotline(self, k: int) -> Block:
        w, p, rng = self.w, self.w.people, self.w.rng("hotline", k)
        first, last = int(w.first[k]), int(w.last[k])
        pl = w.planted["hotline"]
        sel = pl["month"] == k
        help_p = pl["person"][sel]
        adults = np.flatnonzero(w.alive_at(last) & (w.age(first) >= 18) & (p.origin != NEWBORN))
        n_other = min(len(adults), rng.poisson(m.HOTLINE_OTHER_P * p.n_reg))
        other = rng.choice(adults, size=n_other, replace=False)
        person = np.concatenate([help_p, other])
        cat = np.concatenate([np.zeros(len(help_p)), rng.integers(1, 3, n_other)]).astype(int)
        days = np.concatenate([pl["day"][sel], days_in(rng, first, last, n_other)])
        texts = [t for c in HOTLINE_CATEGORIES for t in HOTLINE_TEXT[c]]
        offs = np.cumsum([0] + [len(HOTLINE_TEXT[c]) for c in HOTLINE_CATEGORIES])
        sizes = np.diff(offs)
        text = offs[cat] + np.floor(rng.random(len(person)) * sizes[cat]).astype(int)
        phone = np.where(p.hh[person] >= 0, self.h_phone[np.maximum(p.hh[person], 0)], 0)
        phone = np.where(phone > 0, phone, mobiles(rng, len(person)))
        order = np.argsort(days, kind="stable")
        pos = np.empty(len(order), np.int64)
        pos[order] = np.arange(len(order))
        ids = self._ids("hotline", k, len(person))
        events = [EventChunk("hotline_help", help_p, w.labels[k], "hotline",
                             id_lists(ids.take(pa.array(pos[:len(help_p)]))))]
        return Block(person[order], {
            "received_at": days[order].astype(np.int32),
            "phone": pc.cast(pa.array(phone[order]), pa.string()),
            "category": labels(HOTLINE_CATEGORIES, cat[order]),
            "text": labels(tuple(texts), text[order]),
        }, ids, events)

    # -- banks: balances of families under review (with their authorisation) -----------------
    def deposits(self, k: int) -> Block:
        w, p, reg, rng = self.w, self.w.people, self.w.reg, self.w.rng("deposits", k)
        first, last = int(w.first[k]), int(w.last[k])
        month_no = int(w.labels[k][5:7])
        review = np.isin(reg.h_tier, (m.DIBAO, m.EP, m.EDGE)) & (
            np.arange(reg.n_households) % 12 == month_no - 1)
        age = w.age(first)
        members = np.flatnonzero((p.origin == REGISTER) & review[np.maximum(p.hh, 0)]
                                 & (age >= 16) & (w.death_day > last))
        # applicants: people who called 12345 for help last month and are not registered
        pl = w.planted["hotline"]
        applicants = pl["person"][(pl["month"] == k - 1)]
        applicants = applicants[(p.origin[applicants] != REGISTER)
                                & (w.death_day[applicants] > last)]
        person = np.concatenate([members, applicants])
        std = np.where(p.hh[person] >= 0, reg.h_std[np.maximum(p.hh[person], 0)],
                       np.median(reg.h_std) if len(reg.h_std) else 100_000)
        edge = (p.hh[person] >= 0) & (reg.h_tier[np.maximum(p.hh[person], 0)] == m.EDGE)
        median = np.where(edge, 6000, 1500) * 100
        balance = np.minimum(rng.lognormal(np.log(median), 1.0), 0.8 * 24 * std)
        return Block(person, {
            "as_of": np.full(len(person), last, np.int32),
            "balance": np.rint(balance).astype(np.int64),
            "institution": labels(BANKS, rng.choice(6, size=len(person), p=_BANK_P)),
        }, self._ids("deposits", k, len(person)))
