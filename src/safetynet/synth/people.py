"""Everyone the feeds can mention: the register's members plus people outside it.

Outside the register are (a) a pool of residents whom departments know and the register
does not (new people in need: hospital bills, 12345 calls, deaths, disaster victims),
(b) village cadres and their relatives (the organisation department's feed) and
(c) babies born during the covered months into register households. All get unique,
valid identity numbers from one draw, so no two people share a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.synth import idnumbers, names
from safetynet.synth import model as m
from safetynet.synth.geo import Geo, draw_villages
from safetynet.synth.population import YEAR, Register, soft_clip

REGISTER, OUTSIDE, CADRE, NEWBORN = range(4)
CADRE_POSTS = ("村党支部书记", "村委会主任", "村会计", "村妇女主任", "社区居委会主任", "网格员",
               "乡镇民政办工作人员", "乡镇党委委员")
CADRE_RELATIONS = ("spouse", "child", "parent", "sibling", "other")
_INDUSTRIES = ("商贸", "建筑工程", "食品", "机械制造", "物流", "纺织", "物业管理", "餐饮管理",
               "农业科技", "电子科技", "化工", "建材", "家政服务", "汽车维修", "医药", "服装")
_BRANDS = "华泰鲁信金源宏达中兴恒利东方永盛鑫海瑞祥丰德福康新元正大天成隆安"


@dataclass
class People:
    n_reg: int
    origin: np.ndarray  # REGISTER / OUTSIDE / CADRE / NEWBORN
    hh: np.ndarray  # register household, -1 none (newborns: their family's household)
    relation: np.ndarray  # index into population.RELATIONS
    sex: np.ndarray
    birth: np.ndarray
    village: np.ndarray
    tier: np.ndarray  # model tier code, NONE outside the register
    surname: np.ndarray
    given: np.ndarray
    dis_cat: np.ndarray
    dis_grade: np.ndarray
    dis_issued: np.ndarray
    wage: np.ndarray
    pension: np.ndarray
    employer: np.ndarray  # -1 none
    hf_rate: np.ndarray  # housing fund deposit as share of wage, 0 none
    hukou_no: np.ndarray  # int64: 户号 (register households share one)
    bodies: np.ndarray  # int64 17-digit bodies
    ids: np.ndarray  # S18
    id_arrow: pa.Array
    name_arrow: pa.Array
    employer_names: pa.Array
    # cadre ↔ relative pairs (outside people); planted enrolled relatives come later
    cad_cadre: np.ndarray
    cad_relative: np.ndarray
    cad_relation: np.ndarray
    cad_post: np.ndarray

    @property
    def n(self) -> int:
        return len(self.origin)


def _ages_general(rng, n):
    return 90 * rng.beta(1.3, 1.5, n)


def build_people(reg: Register, geo: Geo, start_day: int, month_first: np.ndarray,
                 month_last: np.ndarray, rng: np.random.Generator) -> People:
    n_reg = reg.n_persons
    n_out = int(round(n_reg * m.OUTSIDE_POOL))
    n_cad = max(3, int(round(n_reg * m.CADRES_PER_PERSON)))

    # -- outside pool ----------------------------------------------------------------
    o_village = draw_villages(geo, rng.random(n_out) < 0.45, rng)
    o_birth = (start_day - np.floor(_ages_general(rng, n_out) * YEAR) - 1).astype(np.int32)
    o_sex = (rng.random(n_out) < 0.5).astype(np.int8)

    # -- cadres and their relatives ----------------------------------------------------
    c_village = draw_villages(geo, rng.random(n_cad) < 0.3, rng)
    c_age = rng.uniform(30, 58, n_cad)
    c_birth = (start_day - np.floor(c_age * YEAR)).astype(np.int32)
    c_sex = (rng.random(n_cad) < 0.75).astype(np.int8)
    k = rng.integers(1, 5, n_cad)
    r_cadre = np.repeat(np.arange(n_cad), k)
    r_slot = np.arange(len(r_cadre)) - np.repeat(np.cumsum(k) - k, k)
    r_rel = np.where(r_slot == 0, 0, rng.choice((1, 2, 3), size=len(r_cadre), p=(0.5, 0.3, 0.2)))
    ca = c_age[r_cadre]
    r_age = np.select([r_rel == 0, r_rel == 1, r_rel == 2],
                      [ca + rng.normal(-1, 3, len(ca)), ca - rng.uniform(22, 32, len(ca)),
                       ca + rng.uniform(22, 32, len(ca))], ca + rng.uniform(-8, 8, len(ca)))
    r_age = soft_clip(r_age, 0.5, 99, rng)
    r_birth = (start_day - np.floor(r_age * YEAR)).astype(np.int32)
    r_sex = np.where(r_rel == 0, 1 - c_sex[r_cadre], rng.random(len(r_cadre)) < 0.5).astype(np.int8)
    n_rel = len(r_cadre)

    # -- babies born in the covered months into register households ---------------------
    mothers = np.flatnonzero((reg.sex == 0) & (reg.relation <= 1)
                             & (reg.birth > start_day - 42 * YEAR)
                             & (reg.birth < start_day - 20 * YEAR))
    per_month = rng.poisson(m.BIRTH_P * n_reg, len(month_first)) if len(mothers) else \
        np.zeros(len(month_first), np.int64)
    b_month = np.repeat(np.arange(len(month_first)), per_month)
    b_mother = rng.choice(mothers, size=len(b_month)) if len(mothers) else np.empty(0, np.int64)
    span = (month_last - month_first + 1)[b_month]
    b_birth = (month_first[b_month] + np.floor(rng.random(len(b_month)) * span * 0.6)).astype(
        np.int32)
    b_hh = reg.hh[b_mother]
    n_new = len(b_month)

    # -- concatenate: register, outside, cadres, relatives, newborns ---------------------
    origin = np.concatenate([np.full(n_reg, REGISTER), np.full(n_out, OUTSIDE),
                             np.full(n_cad, CADRE), np.full(n_rel, OUTSIDE),
                             np.full(n_new, NEWBORN)]).astype(np.int8)
    n_all = len(origin)
    reg_village = reg.h_village[reg.hh]
    village = np.concatenate([reg_village, o_village, c_village,
                              np.where(rng.random(n_rel) < 0.8, c_village[r_cadre],
                                       draw_villages(geo, rng.random(n_rel) < 0.4, rng)),
                              reg.h_village[b_hh]]).astype(np.int32)
    birth = np.concatenate([reg.birth, o_birth, c_birth, r_birth, b_birth]).astype(np.int32)
    sex = np.concatenate([reg.sex, o_sex, c_sex, r_sex,
                          (rng.random(n_new) < 0.515).astype(np.int8)]).astype(np.int8)
    hh = np.concatenate([reg.hh, np.full(n_out + n_cad + n_rel, -1, np.int32), b_hh])
    relation = np.concatenate([reg.relation, np.full(n_out + n_cad + n_rel, 0, np.int8),
                               np.full(n_new, 2, np.int8)]).astype(np.int8)
    tier = np.concatenate([reg.tier, np.full(n_all - n_reg, m.NONE, np.int8)])
    pad = n_all - n_reg

    surname = names.draw_surnames(rng, n_all)
    surname[:n_reg] = reg.surname
    cad0 = n_reg + n_out
    rel0 = cad0 + n_cad
    # children and siblings of a cadre carry the cadre's surname; newborns their head's
    same = (r_rel == 1) | (r_rel == 3)
    surname[rel0:rel0 + n_rel][same] = surname[cad0 + r_cadre[same]]
    head_of = reg.h_first[b_hh]
    surname[rel0 + n_rel:] = reg.surname[head_of]
    male = sex.astype(bool)
    given = names.draw_given(rng, m.year_of(birth), male)
    given[:n_reg] = reg.given

    dis_cat = np.concatenate([reg.dis_cat, np.full(pad, -1, np.int8)])
    dis_grade = np.concatenate([reg.dis_grade, np.full(pad, -1, np.int8)])
    # certificates were issued some time in the 15 years before the start, after birth
    hi = np.int64(start_day - 30)
    span = np.clip(hi - (birth.astype(np.int64) + 200), 1, 15 * 365)
    issued = hi - np.floor(rng.random(n_all) * span).astype(np.int64)
    dis_issued = np.where(dis_cat >= 0, issued, m.NO_DAY).astype(np.int32)

    wage = np.concatenate([reg.wage, np.zeros(pad, np.int64)])
    pension = np.concatenate([reg.pension, np.zeros(pad, np.int64)])
    county = geo.village_county[village]
    employer, employer_names = _employers(wage > 0, county, geo, rng)
    urban = geo.village_urban[village]
    hf_p = np.where(urban, m.HOUSING_FUND_P[True], m.HOUSING_FUND_P[False])
    hf_rate = np.where((wage > 0) & (rng.random(n_all) < hf_p), rng.uniform(0.10, 0.24, n_all),
                       0.0).astype(np.float32)

    # 户号: register households share one, others get their own
    numbers = _scramble(np.arange(reg.n_households + n_all, dtype=np.int64), rng)
    h_no = numbers[:reg.n_households]
    hukou_no = numbers[reg.n_households:].copy()
    hukou_no[:n_reg] = h_no[reg.hh]
    hukou_no[n_all - n_new:] = h_no[b_hh]

    # identity numbers: issued with the residence county's code, some people moved since
    prefix_county = np.where(rng.random(n_all) < 0.88, county,
                             rng.integers(0, geo.n_counties, n_all))
    prefix = geo.county_code[prefix_county].astype(np.int64)
    bodies = idnumbers.assign_bodies(prefix, birth, male, rng)
    ids = idnumbers.render(bodies)
    return People(
        n_reg=n_reg, origin=origin, hh=hh, relation=relation, sex=sex, birth=birth,
        village=village, tier=tier, surname=surname, given=given, dis_cat=dis_cat,
        dis_grade=dis_grade, dis_issued=dis_issued, wage=wage, pension=pension,
        employer=employer, hf_rate=hf_rate, hukou_no=hukou_no, bodies=bodies, ids=ids,
        id_arrow=idnumbers.to_arrow(ids), name_arrow=names.render(surname, given),
        employer_names=employer_names,
        cad_cadre=(cad0 + r_cadre).astype(np.int64),
        cad_relative=np.arange(rel0, rel0 + n_rel, dtype=np.int64),
        cad_relation=r_rel.astype(np.int8),
        cad_post=rng.integers(0, len(CADRE_POSTS), n_rel).astype(np.int8)[
            np.searchsorted(r_cadre, r_cadre)],  # one post per cadre
    )


def _scramble(idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distinct 9-digit numbers from distinct indexes (multiplication by a unit mod 9e8)."""
    offset = int(rng.integers(0, 9 * 10**8))
    return (idx * 1_000_003 + offset) % (9 * 10**8) + 10**8


def _employers(has_wage: np.ndarray, county: np.ndarray, geo: Geo, rng: np.random.Generator):
    """Companies per county, about one per 25 wage earners; earners work in their county."""
    per_county = np.bincount(county[has_wage], minlength=geo.n_counties)
    n_emp = np.where(per_county > 0, np.maximum(per_county // 25, 2), 0)
    start = np.concatenate([[0], np.cumsum(n_emp)[:-1]])
    emp_county = np.repeat(np.arange(geo.n_counties), n_emp)
    employer = np.full(len(county), -1, np.int32)
    w = np.flatnonzero(has_wage)
    employer[w] = start[county[w]] + np.floor(rng.random(len(w)) * n_emp[county[w]]).astype(
        np.int64)
    short = [nm[:-1] if len(nm) > 2 else nm for nm in geo.county_name]
    k = len(emp_county)
    a = rng.integers(0, len(_BRANDS), k)
    b = rng.integers(0, len(_BRANDS), k)
    brands = pa.array([c for c in _BRANDS])
    parts = [
        pa.array(short).take(pa.array(emp_county)),
        brands.take(pa.array(a)), brands.take(pa.array(b)),
        pa.array(_INDUSTRIES).take(pa.array(rng.integers(0, len(_INDUSTRIES), k))),
        pa.array(["有限公司", "有限责任公司", "股份有限公司"]).take(
            pa.array(rng.choice(3, size=k, p=(0.7, 0.25, 0.05)))),
    ]
    return employer, pc.binary_join_element_wise(*parts, "")
