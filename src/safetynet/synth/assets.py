"""Asset and list registers: vehicles, property, businesses, anti-relapse targets, cadres.

Baselines follow the asset tests (docs/policy.md §3, assess.md defaults): enrolled households
(dibao, extremely poor, edge) own no car, at most one home and no business above 100,000
yuan of capital, so the exit-side events planted here (a car, a second home, a company) are
exactly what the warnings must catch. Other households own what ordinary families own.
"""

from __future__ import annotations

import numpy as np

from safetynet.synth import model as m
from safetynet.synth.people import OUTSIDE, REGISTER
from safetynet.synth.records import Records, count_for, days_in, pick
from safetynet.synth.timeline import EV, World

VEHICLE_TYPES = ("car", "truck", "motorcycle", "disability_vehicle", "farm")
CAR, TRUCK, MOTO, DIS_VEH, FARM = range(5)
_PRICE = {CAR: (60_000, 200_000), TRUCK: (80_000, 300_000), MOTO: (3_000, 12_000),
          DIS_VEH: (3_000, 10_000), FARM: (5_000, 60_000)}
USES = ("residential", "commercial", "other")
ROLES = ("legal_rep", "shareholder", "owner")
ANTI_TYPES = ("unstable", "edge", "sudden")
YEAR = 365


def plan_assets(w: World) -> None:
    _vehicles(w)
    _property(w)
    _business(w)
    _anti_relapse(w)
    _cadre_relatives(w)


def _enrolled_households(w: World) -> np.ndarray:
    return np.isin(w.reg.h_tier, (m.DIBAO, m.EP, m.EDGE))


def _monthly_new(w: World, rng, rate: float, pool_mask: np.ndarray, event: int,
                 make) -> list[Records]:
    """Each month, `rate` per 1,000 persons new records for people drawn from a pool."""
    out = []
    used = np.zeros(w.people.n, bool)
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        pool = np.flatnonzero(pool_mask & ~used & (w.death_day > last))
        chosen = pick(rng, pool, count_for(rate, w.people.n_reg, rng))
        used[chosen] = True
        out.append(make(chosen, days_in(rng, first, last, len(chosen)), event))
    return out


def _adult_members(w: World, households: np.ndarray, lo: int = 20, hi: int = 70) -> np.ndarray:
    p = w.people
    age = w.age(w.start)
    return (p.origin == REGISTER) & households[np.maximum(p.hh, 0)] & (age >= lo) & (age < hi)


def _vehicles(w: World) -> None:
    p, reg, rng = w.people, w.reg, w.rng("vehicle")
    heads = reg.h_first
    enrolled = _enrolled_households(w)
    rural = ~reg.h_urban
    nh = reg.n_households
    r = rng.random((4, nh))
    severe = np.zeros(nh, bool)
    sev_person = (p.dis_grade[:p.n_reg] >= 1) & (p.dis_grade[:p.n_reg] <= 2) & (
        p.dis_cat[:p.n_reg] == 0)
    severe[p.hh[:p.n_reg][sev_person]] = True
    owns = {
        CAR: ~enrolled & (r[0] < 0.04),
        TRUCK: ~enrolled & (r[0] >= 0.04) & (r[0] < 0.045),
        MOTO: r[1] < 0.04,
        FARM: rural & (r[2] < 0.03),
        DIS_VEH: severe & (r[3] < 0.2),
    }
    parts = []
    for vtype, mask in owns.items():
        h = np.flatnonzero(mask)
        start = w.start - rng.integers(100, 12 * YEAR, len(h))
        end = np.full(len(h), m.NO_DAY, np.int64)
        sold = rng.random(len(h)) < 0.03
        end[sold] = days_in(rng, w.start, int(w.last[-1]), int(sold.sum()))
        parts.append(_vehicle_records(heads[h], start, end, vtype, -1, rng))

    def make(event_type):
        def _make(chosen, days, event):
            return _vehicle_records(chosen, days, None, event_type, event, rng)
        return _make
    # exit side: enrolled households buying a car; background: others buying one too
    parts += _monthly_new(w, rng, m.EVENT_RATES["new_car"],
                          _adult_members(w, enrolled), EV["new_car"], make(CAR))
    parts += _monthly_new(w, rng, 0.2, _adult_members(w, ~enrolled), -1, make(CAR))
    w.records["vehicle"] = Records.concat(parts)


def _vehicle_records(person, start, end, vtype, event, rng) -> Records:
    lo, hi = _PRICE[vtype]
    n = len(person)
    return Records.of(person, start, end, event=event,
                      vtype=np.full(n, vtype, np.int8),
                      price=(rng.integers(lo, hi, n) // 100 * 10_000).astype(np.int64))


def _property(w: World) -> None:
    p, reg, rng = w.people, w.reg, w.rng("property")
    t = reg.h_tier
    nh = reg.n_households
    # homes in the urban register; rural homesteads are not in it (a few county-town flats)
    own_p = np.array([0.15, 0.05, 0.25, 0.30, 0.05, 0.25, 0.0])[t]
    own_p = np.where(reg.h_urban, own_p, np.where(np.isin(t, (m.DIBAO, m.EP)), 0.01, 0.02))
    r = rng.random((3, nh))
    home = r[0] < own_p
    second = home & (t == m.OTHER) & (r[1] < 0.05)
    shop = (t == m.OTHER) & (r[2] < 0.02)
    enrolled = _enrolled_households(w)
    parts = []
    for mask, use in ((home, 0), (second, 0), (shop, 1)):
        h = np.flatnonzero(mask)
        start = w.start - rng.integers(200, 25 * YEAR, len(h))
        parts.append(_property_records(w, reg.h_first[h], start, use, -1, rng))
    # exit side: an enrolled household buys a second home (one is allowed, two are not)
    used = np.zeros(p.n, bool)
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        pool = np.flatnonzero(enrolled & ~used[reg.h_first] & (w.death_day[reg.h_first] > last))
        h = pick(rng, pool, count_for(m.EVENT_RATES["new_property"], p.n_reg, rng))
        buyers = reg.h_first[h]
        used[buyers] = True
        no_home = ~home[h]
        parts.append(_property_records(w, buyers[no_home],
                                       w.start - rng.integers(400, 20 * YEAR, int(no_home.sum())),
                                       0, -1, rng))
        parts.append(_property_records(w, buyers, days_in(rng, first, last, len(h)), 0,
                                       EV["new_property"], rng))
    parts += _monthly_new(w, rng, 0.2, _adult_members(w, ~enrolled), -1,
                          lambda c, d, e: _property_records(w, c, d, 0, e, rng))
    w.records["property"] = Records.concat(parts)


def _property_records(w, person, start, use, event, rng) -> Records:
    n = len(person)
    area = np.where(use == 0, rng.uniform(45, 140, n), rng.uniform(20, 200, n))
    end = np.full(n, m.NO_DAY, np.int64)
    return Records.of(person, start, end, event=event, use=np.full(n, use, np.int8),
                      area=(area * 100).astype(np.int64),
                      township=rng.integers(1, 30, n).astype(np.int16))


def _business(w: World) -> None:
    reg, rng = w.reg, w.rng("business")
    enrolled = _enrolled_households(w)
    nh = reg.n_households
    r = rng.random((2, nh))
    shop = r[0] < np.where(enrolled, 0.01, 0.04)
    company = ~enrolled & (r[1] < 0.007)
    parts = []
    for mask, kind in ((shop, "shop"), (company, "company")):
        h = np.flatnonzero(mask)
        start = w.start - rng.integers(100, 15 * YEAR, len(h))
        end = np.full(len(h), m.NO_DAY, np.int64)
        cancelled = rng.random(len(h)) < 0.08
        end[cancelled] = days_in(rng, w.start, int(w.last[-1]), int(cancelled.sum()))
        cap_hi = np.where(enrolled[h], 50_000, 100_000)
        parts.append(_business_records(reg.h_first[h], start, end, kind, -1, rng, cap_hi))
    # exit side: an enrolled member becomes legal representative of a company
    parts += _monthly_new(
        w, rng, m.EVENT_RATES["new_business"], _adult_members(w, enrolled, 20, 65),
        EV["new_business"], lambda c, d, e: _business_records(c, d, None, "big", e, rng))
    parts += _monthly_new(
        w, rng, 0.3, _adult_members(w, ~enrolled, 20, 65), -1,
        lambda c, d, e: _business_records(c, d, None, "shop", e, rng,
                                          np.full(len(c), 100_000)))
    w.records["business"] = Records.concat(parts)


def _business_records(person, start, end, kind, event, rng, cap_hi=None) -> Records:
    n = len(person)
    if kind == "shop":  # 个体工商户: the owner
        cap = rng.integers(10_000, np.maximum(cap_hi, 10_001), n) if n else np.empty(0, np.int64)
        role = np.full(n, 2, np.int8)
    elif kind == "company":
        cap = rng.integers(100_000, 2_000_000, n)
        role = rng.choice(2, size=n, p=(0.6, 0.4)).astype(np.int8)
    else:  # planted: a company above the 100,000 yuan limit
        cap = rng.integers(150_000, 1_000_000, n)
        role = rng.choice(2, size=n, p=(0.7, 0.3)).astype(np.int8)
    return Records.of(person, start, end, event=event, role=role,
                      capital=(cap // 1000 * 100_000).astype(np.int64),
                      shop=np.full(n, kind == "shop"),
                      trade=rng.integers(0, 64, n).astype(np.int8))


def _anti_relapse(w: World) -> None:
    p, reg, rng = w.people, w.reg, w.rng("anti_relapse")
    members = np.flatnonzero(p.origin == REGISTER)
    h_type = rng.choice(3, size=reg.n_households, p=(0.45, 0.40, 0.15)).astype(np.int8)
    rural_dibao = (reg.h_tier == m.DIBAO) & ~reg.h_urban & (rng.random(reg.n_households) < 0.05)
    listed = (reg.h_tier == m.ANTI) | rural_dibao
    who = members[listed[p.hh[members]]]
    h = p.hh[who]
    since = w.start - rng.integers(60, 4 * YEAR, reg.n_households)
    start = np.where(reg.h_tier[h] == m.ANTI, np.minimum(since[h], w.start - 30), since[h])
    end = np.full(len(who), m.NO_DAY, np.int64)
    removed = (reg.h_tier[h] == m.DIBAO) & (rng.random(reg.n_households)[h] < 0.05)
    end[removed] = days_in(rng, w.start, int(w.last[-1]), int(removed.sum()))
    parts = [Records.of(who, start, end, atype=h_type[h])]
    # planted: new identifications of rural households of concern, and of people the
    # register does not know yet
    other_rural = (reg.h_tier == m.OTHER) & ~reg.h_urban
    taken = np.zeros(reg.n_households, bool)
    outside = np.flatnonzero((p.origin == OUTSIDE) & ~w.geo.village_urban[p.village])
    for k in range(w.months):
        first, last = int(w.first[k]), int(w.last[k])
        n = count_for(m.EVENT_RATES["anti_relapse"], p.n_reg, rng)
        n_out = int(round(n * m.OUTSIDE_SHARE["anti_relapse"]))
        n_h = max(0, int(round((n - n_out) / 2.5)))
        hs = pick(rng, np.flatnonzero(other_rural & ~taken
                                      & (w.death_day[reg.h_first] > last)), n_h)
        taken[hs] = True
        day_h = days_in(rng, first, last, len(hs))
        who = members[np.isin(p.hh[members], hs)]
        who = who[w.death_day[who] > last]
        outs = pick(rng, outside[w.death_day[outside] > last], n_out)
        kind = np.where(rng.random(reg.n_households) < 0.7, 2, 1).astype(np.int8)
        parts.append(Records.of(
            np.concatenate([who, outs]),
            np.concatenate([day_h[np.searchsorted(hs, p.hh[who])],
                            days_in(rng, first, last, len(outs))]),
            event=EV["anti_relapse"],
            atype=np.concatenate([kind[p.hh[who]], np.full(len(outs), 2, np.int8)])))
    w.records["anti_relapse"] = Records.concat(parts)


def _cadre_relatives(w: World) -> None:
    """The organisation department's list of cadres' relatives, with a few enrolled ones."""
    p, rng = w.people, w.rng("cadre")
    base = Records.of(p.cad_relative, w.start - rng.integers(30, 5 * YEAR, len(p.cad_relative)),
                      cadre=p.cad_cadre, relation=p.cad_relation, post=p.cad_post)
    total = max(2, count_for(m.EVENT_RATES["cadre_relative"] * w.months, p.n_reg, rng))
    age = w.age(w.start)
    pool = np.flatnonzero((p.origin == REGISTER) & np.isin(p.tier, (m.DIBAO, m.EP, m.EDGE))
                          & (age >= 16) & (w.death_day > w.last[0]))
    rel = pick(rng, pool, total)
    cadres = np.unique(p.cad_cadre)
    # a cadre of the relative's own county where there is one
    c_county = w.geo.village_county[p.village[cadres]]
    order = np.argsort(c_county, kind="stable")
    r_county = w.geo.village_county[p.village[rel]]
    lo = np.searchsorted(c_county[order], r_county)
    hi = np.searchsorted(c_county[order], r_county, side="right")
    any_c = rng.integers(0, len(cadres), len(rel))
    local = lo + np.floor(rng.random(len(rel)) * (hi - lo)).astype(np.int64)
    cadre = np.where(hi > lo, cadres[order][np.minimum(local, len(cadres) - 1)], cadres[any_c])
    diff = (w.age(w.start)[rel] - age[cadre]).astype(np.int64)
    relation = np.select([diff >= 18, diff <= -18], [2, 1], 3).astype(np.int8)
    # most were on the list before the window; some appear after an election
    late = rng.random(len(rel)) < 0.2
    start = np.where(late, 0, w.start - rng.integers(30, 3 * YEAR, len(rel)))
    k = rng.integers(0, w.months, len(rel))
    start[late] = w.first[k[late]] + rng.integers(0, 28, int(late.sum()))
    posts = p.cad_post[np.searchsorted(p.cad_cadre, cadre)]
    planted = Records.of(rel, start, event=EV["cadre_relative"], cadre=cadre,
                         relation=relation, post=posts)
    w.records["cadre_relatives"] = Records.concat([base, planted])
