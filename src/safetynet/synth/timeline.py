"""What happens during the covered months, decided before any file is written.

Deaths, job losses and wage cuts, unemployment, new disabilities, school careers and the
planted bills, calls and disasters are all drawn here, month by month (a loop over months,
never over people). Feeds are then rendered from this plan, so a death stops the wage
rows and the bills that follow it, and every planted event has the rows that show it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from safetynet.synth import model as m
from safetynet.synth.geo import Geo, Standards
from safetynet.synth.idnumbers import yyyymmdd
from safetynet.synth.people import NEWBORN, REGISTER, People
from safetynet.synth.population import Register
from safetynet.synth.records import Records, count_for, days_in, pick

EV = {k: i for i, k in enumerate(m.EVENT_KINDS)}
STAGES = ("preschool", "primary", "junior", "senior", "vocational", "college")
# (stage, age at 1 September when entering, years)
_STAGE_PLAN = ((0, 3, 3), (1, 6, 6), (2, 12, 3), (3, 15, 3), (4, 15, 3), (5, 18, 4))
_FEES = {0: (2400, 9600), 1: (0, 600), 2: (0, 800), 3: (1600, 3600), 4: (0, 2000),
         5: (4500, 9000)}  # yuan per school year


@dataclass
class World:
    people: People
    reg: Register
    geo: Geo
    standards: Standards
    first: np.ndarray
    last: np.ndarray
    labels: list[str]
    seed: int
    death_day: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    main_earner: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    wage_stop: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    cut_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    cut_factor: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    ub_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    ub_to: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    ub_amount: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    drops: dict[str, np.ndarray] = field(default_factory=dict)  # person, month, job_loss
    planted: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    records: dict[str, Records] = field(default_factory=dict)
    _birth_key: np.ndarray | None = None

    @property
    def months(self) -> int:
        return len(self.first)

    @property
    def start(self) -> int:
        return int(self.first[0])

    def rng(self, *stream: str | int) -> np.random.Generator:
        """An independent stream per purpose, so one feed's draws never shift another's."""
        key = [zlib.crc32(s.encode()) if isinstance(s, str) else int(s) for s in stream]
        return np.random.default_rng([self.seed, *key])

    def alive_at(self, day: int) -> np.ndarray:
        return (self.death_day > day) & (self.people.birth <= day)

    def age(self, day: int) -> np.ndarray:
        """Whole years of age of everyone on `day` (exact, via YYYYMMDD integers)."""
        if self._birth_key is None:
            self._birth_key = yyyymmdd(self.people.birth)
        day_key = int(yyyymmdd(np.array([day]))[0])
        return ((day_key - self._birth_key) // 10000).astype(np.int32)


def plan(w: World) -> None:
    """Fill the world's plan: call once, before rendering any feed."""
    _deaths(w)
    _income_changes(w)
    _disability(w)
    _education(w)
    _planted_bills_calls_disasters(w)


def _deaths(w: World) -> None:
    p, rng = w.people, w.rng("deaths")
    death = np.full(p.n, m.NO_DAY, np.int32)
    income = p.wage + p.pension
    main = np.zeros(p.n, bool)
    reg = np.flatnonzero((p.origin == REGISTER) & (income > 0))
    # the household's main earner: the member with the largest counted income
    order = reg[np.lexsort((-income[reg], p.hh[reg]))]
    head_of_group = np.r_[True, p.hh[order][1:] != p.hh[order][:-1]]
    main[order[head_of_group]] = True
    w.main_earner = main
    a, b = m.MORTALITY
    low_income = np.isin(p.tier, (m.DIBAO, m.EP, m.EDGE))
    mult = np.where(low_income, m.LOW_INCOME_MORTALITY, 1.0)
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        alive = (death == m.NO_DAY) & (p.birth < first) & (p.origin != NEWBORN)
        q = np.minimum(np.exp(a + b * w.age(first)) * mult / 12.0, 0.3)
        dies = alive & (rng.random(p.n) < q)
        extra = pick(rng, np.flatnonzero(alive & main & ~dies),
                     count_for(m.EVENT_RATES["main_earner_death"], p.n_reg, rng))
        dies[extra] = True
        idx = np.flatnonzero(dies)
        death[idx] = days_in(rng, first, last, len(idx))
    w.death_day = death


def _income_changes(w: World) -> None:
    """Planted income drops (job loss or wage cut) and unemployment registrations."""
    p, rng, M = w.people, w.rng("income"), w.months
    w.wage_stop = np.full(p.n, M, np.int16)
    w.cut_from = np.full(p.n, M, np.int16)
    w.cut_factor = np.ones(p.n, np.float32)
    w.ub_from = np.full(p.n, M, np.int16)
    w.ub_to = np.full(p.n, M, np.int16)
    w.ub_amount = np.zeros(p.n, np.int64)
    used = np.zeros(p.n, bool)
    d_person, d_month, d_loss, unemp = [], [], [], []
    # a drop is measured against earlier months, so leave some history before the first
    first_month = max(1, min(6, M // 2))
    for k in range(first_month, M):
        first, last = int(w.first[k]), int(w.last[k])
        earners = np.flatnonzero((p.wage > 0) & ~used & (w.death_day > last)
                                 & (p.origin == REGISTER))
        chosen = pick(rng, earners, count_for(m.EVENT_RATES["income_drop"], p.n_reg, rng))
        used[chosen] = True
        loss = rng.random(len(chosen)) < 0.55
        w.wage_stop[chosen[loss]] = k
        cut = chosen[~loss]
        w.cut_from[cut] = k
        w.cut_factor[cut] = rng.uniform(0.2, 0.45, len(cut))
        registers = chosen[loss & (rng.random(len(chosen)) < 0.6)]
        unemp.append(Records.of(registers, days_in(rng, first, last, len(registers)),
                                event=EV["new_unemployment"]))
        paid = registers[rng.random(len(registers)) < 0.5]
        w.ub_from[paid] = k + 1
        w.ub_to[paid] = k + 7
        w.ub_amount[paid] = rng.integers(1500, 1900, len(paid)) * 100
        d_person.append(chosen)
        d_month.append(np.full(len(chosen), k))
        d_loss.append(loss)
    w.drops = {
        "person": np.concatenate(d_person) if d_person else np.empty(0, np.int64),
        "month": np.concatenate(d_month) if d_month else np.empty(0, np.int64),
        "job_loss": np.concatenate(d_loss) if d_loss else np.empty(0, bool),
    }
    # registered unemployed already on the books at the start, and new registrations of
    # people without a wage in the feeds
    age0 = w.age(w.start)
    able = (p.origin == REGISTER) & (p.wage == 0) & (age0 >= 20) & (age0 < 60) & ~(
        (p.dis_grade >= 1) & (p.dis_grade <= 2))
    base = np.flatnonzero(able & (rng.random(p.n) < 0.05))
    reg_on = w.start - rng.integers(30, 3 * 365, len(base))
    end = np.full(len(base), m.NO_DAY, np.int64)
    r = rng.random(len(base))
    ended = r < 0.3
    end[ended] = np.minimum(reg_on[ended] + rng.integers(60, 700, int(ended.sum())),
                            w.start - 1)
    later = (r >= 0.3) & (r < 0.4)
    end[later] = days_in(rng, w.start, int(w.last[-1]), int(later.sum()))
    parts = [Records.of(base, reg_on, end)]
    for k in range(M):
        pool = np.flatnonzero(able & ~used & (w.death_day > w.last[k]))
        chosen = pick(rng, pool, count_for(m.EVENT_RATES["new_unemployment"], p.n_reg, rng))
        used[chosen] = True
        parts.append(Records.of(chosen, days_in(rng, int(w.first[k]), int(w.last[k]),
                                                len(chosen)), event=EV["new_unemployment"]))
    w.records["unemployment"] = Records.concat(parts + unemp)


def _disability(w: World) -> None:
    p, rng = w.people, w.rng("disability")
    has = np.flatnonzero(p.dis_cat >= 0)
    revoked = np.where(w.death_day[has] != m.NO_DAY, w.death_day[has] + 20, m.NO_DAY)
    review = rng.random(len(has)) < 0.004  # reassessed and revoked during the window
    revoked[review] = days_in(rng, w.start, int(w.last[-1]), int(review.sum()))
    parts = [Records.of(has, p.dis_issued[has], revoked, cat=p.dis_cat[has],
                        grade=p.dis_grade[has])]
    free = (p.dis_cat < 0) & (p.origin == REGISTER)
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        pool = np.flatnonzero(free & (w.death_day > last))
        weight = 0.3 + np.clip(w.age(first)[pool], 0, 100) / 30.0
        chosen = pick(rng, pool, count_for(m.EVENT_RATES["new_disability"], p.n_reg, rng),
                      weight)
        free[chosen] = False
        n = len(chosen)
        parts.append(Records.of(
            chosen, days_in(rng, first, last, n), event=EV["new_disability"],
            cat=rng.choice(7, size=n, p=m.DISABILITY_CATEGORY_P).astype(np.int8),
            grade=(rng.choice(4, size=n, p=m.DISABILITY_GRADE_P) + 1).astype(np.int8)))
    w.records["disability"] = Records.concat(parts)


def _education(w: World) -> None:
    """School careers: one record per stage, entered on 1 September, left on 1 July."""
    p, rng = w.people, w.rng("education")
    birth = p.birth.astype("datetime64[D]")
    by = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    bm = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    cohort = by + (bm >= 9)  # age on 1 September of year Y is Y - cohort
    y_first = int(m.year_of(w.first[:1])[0]) - 1
    y_last = int(m.year_of(w.last[-1:])[0])
    pool = np.flatnonzero((p.origin == REGISTER) & (cohort >= y_first - 25)
                          & (cohort <= y_last - 3))
    n = len(pool)
    pre = rng.random(n) < 0.85
    track = rng.choice(3, size=n, p=(0.55, 0.38, 0.07))  # senior, vocational, none
    college = rng.random(n) < np.select([track == 0, track == 1], [0.6, 0.3], 0.0)
    years_college = np.where((track == 0) & (rng.random(n) < 0.6), 4, 3)
    county = w.geo.village_county[p.village[pool]]
    window_first, window_last = w.start, int(w.last[-1])
    parts = []
    for stage, entry_age, years in _STAGE_PLAN:
        enrolled = {0: pre, 1: np.ones(n, bool), 2: np.ones(n, bool), 3: track == 0,
                    4: track == 1, 5: college}[stage]
        dur = years_college if stage == 5 else np.full(n, years)
        e_year = cohort[pool] + entry_age
        start = (np.array(e_year - 1970, "datetime64[Y]").astype("datetime64[M]") + 8).astype(
            "datetime64[D]").astype(np.int64)
        end = (np.array(e_year + dur - 1970, "datetime64[Y]").astype("datetime64[M]") + 6
               ).astype("datetime64[D]").astype(np.int64)
        keep = enrolled & (start <= window_last) & (end >= window_first - 365)
        idx = np.flatnonzero(keep)
        person = pool[idx]
        died = w.death_day[person]
        e = np.where(died < end[idx], died + 10, end[idx])
        lo, hi = _FEES[stage]
        entry = (stage >= 3) & (start[idx] >= window_first)
        parts.append(Records.of(
            person, start[idx], e, event=np.where(entry, EV["education_entry"], -1),
            stage=np.full(len(idx), stage, np.int8),
            school=(county[idx] * 8 + rng.integers(0, 8, len(idx))).astype(np.int32),
            fees=(rng.integers(lo, hi + 1, len(idx)) // 10 * 1000).astype(np.int64)))
    w.records["education"] = Records.concat(parts)


def _planted_bills_calls_disasters(w: World) -> None:
    p, reg, rng = w.people, w.reg, w.rng("planted")
    outside = np.flatnonzero(p.origin != REGISTER)
    outside = outside[p.origin[outside] != NEWBORN]
    registered = np.flatnonzero(p.origin == REGISTER)
    h_income = reg.h_income_pc.astype(np.int64) * reg.h_size
    med: dict[str, list] = {k: [] for k in ("person", "month", "day", "oop", "total")}
    calls: dict[str, list] = {k: [] for k in ("person", "month", "day")}
    dis: dict[str, list] = {k: [] for k in ("person", "month", "day", "type", "loss")}
    hh_by_village = reg.h_village  # register households are sorted by village
    out_order = outside[np.argsort(p.village[outside], kind="stable")]
    out_village = p.village[out_order]
    season = np.array([1, 1, 1, 1, 1, 2.5, 2.5, 2.5, 2.5, 1, 1, 1]) / 1.5
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        alive = w.death_day > last
        age = w.age(first)
        adult = alive & (age >= 18)
        # large medical bills: registered people and people the register does not know
        n = count_for(m.EVENT_RATES["medical_large"], p.n_reg, rng)
        n_out = int(round(n * m.OUTSIDE_SHARE["medical_large"]))
        who = np.concatenate([pick(rng, registered[alive[registered]], n - n_out),
                              pick(rng, outside[alive[outside]], n_out)])
        annual = np.where(p.hh[who] >= 0, h_income[np.maximum(p.hh[who], 0)] * 12, 0)
        oop = np.maximum(rng.uniform(15_000, 80_000, len(who)) * 100,
                         annual * rng.uniform(0.5, 1.2, len(who)))
        oop = np.minimum(oop, 400_000_00).astype(np.int64) // 100 * 100
        total = (oop / rng.uniform(0.3, 0.55, len(who))).astype(np.int64) // 100 * 100
        for key, val in (("person", who), ("month", np.full(len(who), k)), ("oop", oop),
                         ("day", days_in(rng, first, last, len(who))), ("total", total)):
            med[key].append(val)
        # 12345 help requests
        n = count_for(m.EVENT_RATES["hotline_help"], p.n_reg, rng)
        n_out = int(round(n * m.OUTSIDE_SHARE["hotline_help"]))
        who = np.concatenate([pick(rng, registered[adult[registered]], n - n_out),
                              pick(rng, outside[adult[outside]], n_out)])
        for key, val in (("person", who), ("month", np.full(len(who), k)),
                         ("day", days_in(rng, first, last, len(who)))):
            calls[key].append(val)
        # disasters hit whole villages (more in the summer flood season)
        want = rng.poisson(m.EVENT_RATES["disaster_loss"] * p.n_reg / 1000
                           * season[int(w.labels[k][5:7]) - 1])
        if want == 0:
            continue
        villages = np.unique(hh_by_village)
        rural = villages[~w.geo.village_urban[villages]]
        cand = rural if len(rural) else villages
        n_v = max(1, int(round(want / max(1.0, 0.3 * reg.n_households / len(villages)))))
        hit = rng.choice(cand, size=min(n_v, len(cand)), replace=False)
        lo = np.searchsorted(hh_by_village, hit)
        hi = np.searchsorted(hh_by_village, hit, side="right")
        heads = reg.h_first[_ranges(lo, hi)]
        lo_o, hi_o = np.searchsorted(out_village, hit), np.searchsorted(out_village, hit, "right")
        outs = out_order[_ranges(lo_o, hi_o)]
        heads = heads[alive[heads] & (rng.random(len(heads)) < 0.3)]
        outs = outs[adult[outs] & (rng.random(len(outs)) < 0.3 * m.OUTSIDE_SHARE["disaster_loss"])]
        who = np.concatenate([heads, outs])
        v_type = rng.integers(0, 6, len(hit))
        v_day = days_in(rng, first, last, len(hit))
        at = np.searchsorted(np.sort(hit), p.village[who])
        hit_sorted = np.argsort(hit)
        for key, val in (("person", who), ("month", np.full(len(who), k)),
                         ("day", v_day[hit_sorted][at]), ("type", v_type[hit_sorted][at]),
                         ("loss", np.clip(rng.lognormal(np.log(8000), 0.9, len(who)), 500,
                                          300_000).astype(np.int64) * 100)):
            dis[key].append(val)
    w.planted["medical"] = {k: np.concatenate(v) for k, v in med.items()}
    w.planted["hotline"] = {k: np.concatenate(v) for k, v in calls.items()}
    w.planted["disaster"] = {k: np.concatenate(v) if v else np.empty(0, np.int64)
                             for k, v in dis.items()}


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of arange(lo[i], hi[i]) without a Python loop."""
    lens = hi - lo
    if lens.sum() == 0:
        return np.empty(0, np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return starts + np.arange(lens.sum())
