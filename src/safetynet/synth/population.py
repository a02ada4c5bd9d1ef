"""The register: households and their members, calibrated by tier (see model.py).

Everything is drawn in bulk: households per tier first (type, size), then one row per
member slot (`np.repeat` over household sizes), then ages, sexes, names, disabilities and
counted incomes per slot. There is no Python loop over people, only over tiers, types and
member roles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safetynet.synth import model as m
from safetynet.synth import names
from safetynet.synth.geo import Geo, Standards, draw_villages

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "sibling", "other")
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, SIBLING, OTHER_REL = range(7)
YEAR = 365.25
CARE_STANDARD_FEN = (100_00, 300_00, 600_00)  # self_care, partial, full (assess.md defaults)


@dataclass
class Register:
    # households (index h)
    h_village: np.ndarray
    h_urban: np.ndarray
    h_grid: np.ndarray
    h_tier: np.ndarray
    h_type: np.ndarray
    h_size: np.ndarray
    h_first: np.ndarray  # person index of the head (members are contiguous)
    h_income_pc: np.ndarray  # fen / month, counted income per member at the start
    h_std: np.ndarray  # dibao standard at the start, fen
    # persons (index p)
    hh: np.ndarray
    relation: np.ndarray
    sex: np.ndarray  # 1 male
    birth: np.ndarray  # int32 day
    surname: np.ndarray
    given: np.ndarray
    tier: np.ndarray
    dis_cat: np.ndarray  # -1 none
    dis_grade: np.ndarray
    wage: np.ndarray  # fen / month counted wage
    pension: np.ndarray  # fen / month
    single_dibao: np.ndarray
    tier_since: np.ndarray
    support: np.ndarray  # -1 / index into SUPPORT_FORMS
    care: np.ndarray  # -1 / index into CARE_LEVELS
    benefit: np.ndarray  # fen / month, -1 when the tier pays no monthly cash

    @property
    def n_households(self) -> int:
        return len(self.h_village)

    @property
    def n_persons(self) -> int:
        return len(self.hh)


def soft_clip(x: np.ndarray, lo: float, hi: float, rng: np.random.Generator,
              band: float = 3.0) -> np.ndarray:
    """Ages outside [lo, hi] redrawn just inside the bound. A hard clip would give many
    people the same birth date, and a county-day has only 500 sequence numbers per sex."""
    x = np.asarray(x, dtype=float).copy()
    below, above = x < lo, x > hi
    x[below] = lo + rng.random(int(below.sum())) * band
    x[above] = hi - rng.random(int(above.sum())) * band
    return x


def _tier_households(tier: int, persons: int, rng: np.random.Generator):
    """Household types and sizes for one tier summing to exactly `persons` people."""
    if persons <= 0:
        return np.empty(0, np.int8), np.empty(0, np.int16)
    mix = np.array(m.HTYPE_MIX[tier])
    mix = mix / mix.sum()
    types = np.empty(0, np.int8)
    sizes = np.empty(0, np.int16)
    while sizes.sum() < persons:  # one batch nearly always; draw more if short
        n = int((persons - sizes.sum()) / 1.2) + 50  # mean sizes are above 1.2 but for EP
        t = rng.choice(len(mix), size=n, p=mix).astype(np.int8)
        z = np.ones(n, np.int16)
        z[t == m.ELDER_COUPLE] = 2
        for ht, dist in m.HTYPE_SIZES.items():
            sel = t == ht
            z[sel] = rng.choice(list(dist), size=int(sel.sum()), p=list(dist.values()))
        if tier == m.DIBAO:
            z = np.minimum(z, m.DIBAO_MAX_SIZE)
        types, sizes = np.concatenate([types, t]), np.concatenate([sizes, z])
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, persons)) + 1
    types, sizes = types[:k].copy(), sizes[:k].copy()
    last = persons - (int(cum[k - 2]) if k > 1 else 0)
    if last != sizes[-1]:
        sizes[-1] = last
        if last == 1:
            types[-1] = m.SINGLE_ELDER
        elif types[-1] == m.THREE_GEN and last < 4:
            types[-1] = m.NUCLEAR
    return types, sizes


def _composition(types, sizes, rng):
    """Per household: has spouse, number of parents of the head."""
    n = len(types)
    spouse = np.zeros(n, bool)
    parents = np.zeros(n, np.int16)
    spouse[types == m.ELDER_COUPLE] = True
    nuc = types == m.NUCLEAR
    spouse[nuc] = (sizes[nuc] >= 3) | (rng.random(int(nuc.sum())) < 0.6)
    spouse[nuc & (sizes == 2)] = rng.random(int((nuc & (sizes == 2)).sum())) < 0.5
    tg = types == m.THREE_GEN
    spouse[tg] = sizes[tg] >= 4
    parents[tg] = np.minimum(rng.integers(1, 3, int(tg.sum())), np.maximum(sizes[tg] - 3, 1))
    sk = types == m.SKIP_GEN
    spouse[sk] = (sizes[sk] >= 3) & (rng.random(int(sk.sum())) < 0.6)
    return spouse, parents


def _head_ages(types, rng):
    n = len(types)
    age = rng.uniform(26, 58, n)
    for t, (lo, hi) in {m.SINGLE_ADULT: (22, 59.9), m.SINGLE_MINOR: (1, 15.9),
                        m.THREE_GEN: (32, 55), m.SKIP_GEN: (55, 78),
                        m.SIBLINGS: (25, 70)}.items():
        sel = types == t
        age[sel] = rng.uniform(lo, hi, int(sel.sum()))
    for t, scale in ((m.SINGLE_ELDER, 7.0), (m.ELDER_COUPLE, 5.5)):
        sel = types == t
        age[sel] = soft_clip(60 + rng.gamma(2.0, scale, int(sel.sum())), 60, 99.5, rng)
    return age


def build_register(n_persons: int, geo: Geo, standards: Standards, start_day: int,
                   end_day: int, rng: np.random.Generator) -> Register:
    # -- households per tier, exact person counts ------------------------------------
    targets = {t: int(round(n_persons * s)) for t, s in m.TIER_SHARES.items()}
    targets[m.OTHER] = n_persons - sum(v for t, v in targets.items() if t != m.OTHER)
    parts = [(t, *_tier_households(t, targets[t], rng)) for t in sorted(targets)]
    h_tier = np.concatenate([np.full(len(ty), t, np.int8) for t, ty, _ in parts])
    h_type = np.concatenate([ty for _, ty, _ in parts])
    h_size = np.concatenate([sz for _, _, sz in parts]).astype(np.int16)
    urban_p = np.array([m.URBAN_SHARE.get(t, 0.4) for t in range(7)])[h_tier]
    h_urban = rng.random(len(h_tier)) < urban_p
    h_village = draw_villages(geo, h_urban, rng)
    # the register lists households village by village
    order = np.lexsort((rng.random(len(h_tier)), h_village))
    h_tier, h_type, h_size = h_tier[order], h_type[order], h_size[order]
    h_urban, h_village = h_urban[order], h_village[order]
    nh = len(h_tier)
    h_grid = (rng.random(nh) * geo.village_grids[h_village]).astype(np.int8) + 1
    spouse, n_par = _composition(h_type, h_size, rng)
    head_age = _head_ages(h_type, rng)
    head_male_p = np.select(
        [h_type == m.SINGLE_ELDER, h_type == m.SINGLE_ADULT, h_type == m.SINGLE_MINOR,
         (h_type == m.NUCLEAR) & ~spouse],
        [0.40, 0.60, 0.52, 0.40], 0.78)
    head_male = rng.random(nh) < head_male_p

    # -- one row per member slot -------------------------------------------------------
    h_first = np.zeros(nh, np.int64)
    h_first[1:] = np.cumsum(h_size)[:-1]
    hh = np.repeat(np.arange(nh, dtype=np.int32), h_size)
    n = len(hh)
    slot = np.arange(n) - h_first[hh]
    sp, npar, ht = spouse[hh], n_par[hh], h_type[hh]
    kid_rel = np.select([ht == m.SKIP_GEN, ht == m.SIBLINGS], [GRANDCHILD, SIBLING], CHILD)
    relation = np.select(
        [slot == 0, sp & (slot == 1), (slot >= 1 + sp) & (slot < 1 + sp + npar)],
        [HEAD, SPOUSE, PARENT], kid_rel).astype(np.int8)
    nephew = (relation == CHILD) & (rng.random(n) < 0.02)
    relation[nephew] = OTHER_REL

    ha = head_age[hh]
    age = ha.copy()
    r = rng.random(n)
    is_ = {k: relation == k for k in range(7)}
    age[is_[SPOUSE]] = soft_clip(ha[is_[SPOUSE]] + rng.normal(-2, 3, is_[SPOUSE].sum()), 18, 99,
                                 rng)
    couple = is_[SPOUSE] & (ht == m.ELDER_COUPLE)
    age[couple] = soft_clip(age[couple], 60.1, 99, rng)
    age[is_[PARENT]] = soft_clip(ha[is_[PARENT]] + 22 + 14 * r[is_[PARENT]], 40, 100, rng)
    kid = is_[CHILD] | is_[OTHER_REL]
    age[kid] = r[kid] * np.minimum(ha[kid] - 20, 28)
    age[is_[GRANDCHILD]] = 0.5 + 17.4 * r[is_[GRANDCHILD]]
    sib = is_[SIBLING]
    age[sib] = soft_clip(ha[sib] + rng.uniform(-10, 10, sib.sum()), 16, 99, rng)
    birth = (start_day - np.floor(age * YEAR) - 1).astype(np.int32)

    male = rng.random(n) < 0.515
    male[is_[HEAD]] = head_male
    male[is_[SPOUSE]] = ~head_male[hh[is_[SPOUSE]]]
    par_rank = slot - 1 - sp
    two_par = is_[PARENT] & (npar == 2)
    male[two_par] = par_rank[two_par] == 0
    one_par = is_[PARENT] & (npar == 1)
    male[one_par] = rng.random(one_par.sum()) < 0.35

    h_surname = names.draw_surnames(rng, nh)
    surname = names.draw_surnames(rng, n)
    inherit = (is_[CHILD] | is_[GRANDCHILD] | is_[SIBLING]) & (
        rng.random(n) < np.where(head_male[hh], 0.95, 0.5))
    inherit |= is_[HEAD] | (is_[PARENT] & male & head_male[hh])
    surname[inherit] = h_surname[hh[inherit]]
    given = names.draw_given(rng, m.year_of(birth), male)

    tier = h_tier[hh].copy()
    dis_cat, dis_grade = _disabilities(tier, age, ht, rng)
    wage, pension = _incomes(hh, relation, age, dis_grade, h_tier, h_size, h_urban,
                             h_village, geo, standards, start_day, end_day, rng)
    h_income = np.bincount(hh, weights=wage + pension, minlength=nh).astype(np.int64)
    h_income_pc = h_income // h_size
    year0 = int(m.year_of(np.array([start_day]))[0])
    county = geo.village_county[h_village]
    h_std = standards.dibao_for(county, h_urban, year0)

    # -- single-person dibao (单人保) inside edge families --------------------------------
    severe = (dis_grade == 1) | (dis_grade == 2) | (
        (dis_grade == 3) & np.isin(dis_cat, (m.INTELLECTUAL, m.MENTAL)))
    single = (tier == m.EDGE) & (h_size[hh] >= 2) & severe & (wage == 0) & (pension == 0)
    single &= rng.random(n) < m.SINGLE_DIBAO_IN_EDGE
    tier[single] = m.DIBAO

    # -- register fields ---------------------------------------------------------------
    since_h = start_day - rng.integers(30, 8 * 365, nh)
    # granted to an adult head (an orphan's support starts when it starts)
    adult_from = np.minimum(birth[h_first] + int(18 * YEAR), start_day - 30)
    since_h = np.maximum(since_h, adult_from)
    tier_since = np.maximum(since_h[hh], birth + 1).astype(np.int32)
    tier_since[single] = start_day - rng.integers(30, 3 * 365, int(single.sum()))
    ep = tier == m.EP
    support = np.full(n, -1, np.int8)
    care = np.full(n, -1, np.int8)
    sev_ep = ep & (severe | (age >= 88))
    care[ep] = rng.choice(3, size=int(ep.sum()), p=m.CARE_P)
    care[sev_ep] = rng.choice(3, size=int(sev_ep.sum()), p=m.CARE_P_SEVERE)
    central_p = np.where((age < 18) | (care == 2), m.CENTRALISED_P_MINOR_OR_FULL, m.CENTRALISED_P)
    support[ep] = np.where(rng.random(int(ep.sum())) < central_p[ep], 0, 1)
    benefit = np.full(n, -1, np.int64)
    dib = (tier == m.DIBAO) & ~single
    benefit[dib] = np.maximum(h_std[hh[dib]] - h_income_pc[hh[dib]], 0)
    benefit[single] = h_std[hh[single]]
    ep_basic = standards.ep_for(county, h_urban, year0)
    benefit[ep] = ep_basic[hh[ep]] + np.array(CARE_STANDARD_FEN)[care[ep]]

    return Register(
        h_village=h_village, h_urban=h_urban, h_grid=h_grid, h_tier=h_tier, h_type=h_type,
        h_size=h_size, h_first=h_first, h_income_pc=h_income_pc, h_std=h_std,
        hh=hh, relation=relation, sex=male.astype(np.int8), birth=birth, surname=surname,
        given=given, tier=tier, dis_cat=dis_cat, dis_grade=dis_grade, wage=wage,
        pension=pension, single_dibao=single, tier_since=tier_since, support=support,
        care=care, benefit=benefit,
    )


def _disabilities(tier, age, htype, rng):
    n = len(tier)
    base = np.array([m.DISABILITY_BASE.get(t, 0.02) for t in range(7)])[tier]
    factor = np.ones(n)
    for from_age, f in m.DISABILITY_AGE_FACTOR:
        factor[age >= from_age] = f
    has = rng.random(n) < base * factor
    cat = rng.choice(7, size=n, p=m.DISABILITY_CATEGORY_P).astype(np.int8)
    grade = (rng.choice(4, size=n, p=m.DISABILITY_GRADE_P) + 1).astype(np.int8)
    # extremely poor adults under 60 have no work capacity: a severe disability
    forced = (tier == m.EP) & (htype == m.SINGLE_ADULT)
    forced |= (tier == m.DIBAO) & (htype == m.SINGLE_ADULT) & (rng.random(n) < 0.6)
    has |= forced
    severe_cat = rng.choice((m.PHYSICAL, m.INTELLECTUAL, m.MENTAL, m.MULTIPLE), size=n)
    cat[forced] = severe_cat[forced]
    grade[forced] = np.minimum(grade[forced], 2)
    cat[~has] = -1
    grade[~has] = -1
    return cat, grade


def _incomes(hh, relation, age, dis_grade, h_tier, h_size, h_urban, h_village, geo,
             standards, start_day, end_day, rng):
    """Counted monthly income per person (wage or pension), so that each household's
    per-capita income sits in its tier's band of the local dibao standard."""
    n, nh = len(hh), len(h_tier)
    county = geo.village_county[h_village]
    y0 = int(m.year_of(np.array([start_day]))[0])
    y1 = int(m.year_of(np.array([end_day]))[0])
    std0 = standards.dibao_for(county, h_urban, y0).astype(float)
    std1 = standards.dibao_for(county, h_urban, y1).astype(float)
    zero_p = np.zeros(nh)
    lo, hi = np.zeros(nh), np.zeros(nh)
    for t, (pz, rlo, rhi) in m.INCOME_RATIO.items():
        sel = h_tier == t
        zero_p[sel] = pz
        if t in (m.DIBAO, m.EP):  # below the line: the start standard is the lowest
            lo[sel], hi[sel] = rlo * std0[sel], rhi * std0[sel]
            continue
        lo[sel] = rlo * std1[sel]
        if rhi is None:
            disp = np.where(h_urban[sel], m.DISPOSABLE_INCOME["urban"],
                            m.DISPOSABLE_INCOME["rural"]) * 100.0
            hi[sel] = 0.85 * disp
        else:
            hi[sel] = rhi * std0[sel]
    lo = np.minimum(lo, hi * 0.97)
    pc = lo + rng.random(nh) * (hi - lo)
    pc[rng.random(nh) < zero_p] = 0
    total = np.rint(pc * h_size / 100) * 100  # whole yuan

    # the earner: a working-age adult able to work, else an elderly pensioner, else the head
    can_work = (age >= 20) & (age < m.RETIREMENT_AGE) & ~((dis_grade >= 1) & (dis_grade <= 2))
    can_work &= relation != PARENT
    elderly = age >= m.RETIREMENT_AGE
    key = np.where(can_work, 2.0, np.where(elderly, 1.0, 0.0)) + rng.random(n) * 0.9
    key += np.isin(relation, (HEAD, SPOUSE)) * 0.05
    key[age < 16] = -1.0
    order = np.lexsort((-key, hh))
    first = np.ones(n, bool)
    first[1:] = hh[order][1:] != hh[order][:-1]
    primary = order[first]  # one per household, ordered by household
    second_pos = np.flatnonzero(~first & np.r_[False, first[:-1]])
    second = order[second_pos]
    second = second[can_work[second] & (rng.random(len(second)) < m.SECOND_EARNER_P)]
    share = np.ones(n)
    share[primary] = 1.0
    split = rng.uniform(0.55, 0.8, len(second))
    share[primary[np.searchsorted(hh[primary], hh[second])]] = split
    share[second] = 1.0 - split
    earner = np.zeros(n, bool)
    earner[primary] = True
    earner[second] = True
    income = np.where(earner, np.rint(total[hh] * share / 100) * 100, 0).astype(np.int64)
    income[age < 16] = 0  # an orphan minor living alone has no counted income
    severe = (dis_grade >= 1) & (dis_grade <= 2)
    as_wage = ~elderly & (age >= 16) & ~severe  # else a retirement or disability pension
    wage = np.where(as_wage, income, 0)
    pension = np.where(as_wage, 0, income)
    return wage.astype(np.int64), pension.astype(np.int64)
