"""Where people live: the demo administrative tree as arrays, and the local standards.

Villages and grids come from `regions.model.demo_tree(province, seed=0)`, the same tree
the platform seeds for the demo, so every generated region and grid exists there.
A small population is spread over a random subset of villages ("active" villages) so
that a village has a realistic number of households even when N is a few thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from safetynet.regions.model import Level, demo_tree
from safetynet.synth import model as m

TREE_SEED = 0  # the demo tree the platform seeds (cli/demo.py uses seed=0)
HOUSEHOLDS_PER_ACTIVE_VILLAGE = 40


@dataclass
class Geo:
    county_code: np.ndarray  # U6
    county_name: list[str]
    county_city_name: list[str]
    county_is_district: np.ndarray  # bool
    city_plate: np.ndarray  # U2: licence plate prefix of the county's city, e.g. 鲁A
    village_code: np.ndarray  # U12
    village_county: np.ndarray  # int32
    village_urban: np.ndarray  # bool
    village_grids: np.ndarray  # int8: grids are numbered 1..n
    village_label: pa.Array  # "济南市历下区东安街道新华社区"
    active_urban: np.ndarray  # village indexes in use, with cumulative weights
    active_rural: np.ndarray
    cum_w_urban: np.ndarray
    cum_w_rural: np.ndarray

    @property
    def n_counties(self) -> int:
        return len(self.county_code)


# Licence plates: the province's character, then the city's letter (鲁A 济南 … 鲁R 菏泽);
# outside Shandong the letters simply follow the order of the cities.
_PROVINCE_CHAR = dict(zip(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 "
    "64 65".split(), "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新", strict=True))
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATES = {"01": "A", "02": "B", "03": "C", "04": "D", "05": "E", "06": "F", "07": "G",
           "08": "H", "09": "J", "10": "K", "11": "L", "13": "Q", "14": "N", "15": "P",
           "16": "M", "17": "R"}


def build_geo(province: str, n_households: int, rng: np.random.Generator) -> Geo:
    tree = demo_tree(province_code=province, seed=TREE_SEED)
    by_code = {r.code: r for r in tree}
    counties = [r for r in tree if r.level is Level.county]
    county_index = {r.code: i for i, r in enumerate(counties)}
    villages = [r for r in tree if r.level is Level.village]
    if not villages:
        raise ValueError(f"the demo tree of province {province} has no villages to place "
                         "people in; use a province with cities and counties, e.g. 37")
    grids: dict[str, int] = {}
    for r in tree:
        if r.level is Level.grid:
            grids[r.parent_code] = max(grids.get(r.parent_code, 0), int(r.code[-2:]))
    labels, v_county = [], []
    for v in villages:
        township = by_code[v.parent_code]
        county = by_code[township.parent_code]
        city = by_code.get(county.parent_code)
        city_name = city.name if city is not None and city.level is Level.city else ""
        labels.append(f"{city_name}{county.name}{township.name}{v.name}")
        v_county.append(county_index[county.code])
    city_names = []
    for c in counties:
        parent = by_code.get(c.parent_code)
        city_names.append(parent.name if parent is not None and parent.level is Level.city else "")
    village_urban = np.array([bool(v.urban) for v in villages])
    geo = Geo(
        county_code=np.array([c.code[:6] for c in counties]),
        county_name=[c.name for c in counties],
        county_city_name=city_names,
        county_is_district=np.array([c.name.endswith("区") for c in counties]),
        city_plate=np.array(_plates(province, counties)),
        village_code=np.array([v.code for v in villages]),
        village_county=np.array(v_county, dtype=np.int32),
        village_urban=village_urban,
        village_grids=np.array([grids.get(v.code, 1) for v in villages], dtype=np.int8),
        village_label=pa.array(labels, pa.string()),
        active_urban=np.empty(0, np.int64), active_rural=np.empty(0, np.int64),
        cum_w_urban=np.empty(0), cum_w_rural=np.empty(0),
    )
    n_active = max(40, n_households // HOUSEHOLDS_PER_ACTIVE_VILLAGE)
    for urban in (True, False):
        pool = np.flatnonzero(village_urban == urban)
        k = min(len(pool), max(10, round(n_active * (0.35 if urban else 0.65))))
        chosen = np.sort(rng.choice(pool, size=k, replace=False))
        cum = np.cumsum(rng.lognormal(0.0, 0.5, size=k))
        if urban:
            geo.active_urban, geo.cum_w_urban = chosen, cum / cum[-1]
        else:
            geo.active_rural, geo.cum_w_rural = chosen, cum / cum[-1]
    return geo


def _plates(province: str, counties) -> list[str]:
    char = _PROVINCE_CHAR.get(province, "鲁")
    cities = sorted({c.code[:4] for c in counties})
    order = {code: _LETTERS[i % len(_LETTERS)] for i, code in enumerate(cities)}
    if province == "37":
        order = {code: _PLATES.get(code[2:4], "A") for code in cities}
    return [char + order[c.code[:4]] for c in counties]


def draw_villages(geo: Geo, urban: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A village of the requested kind for each item, by the active villages' weights."""
    out = np.empty(len(urban), dtype=np.int32)
    u = rng.random(len(urban))
    for flag, active, cum in ((True, geo.active_urban, geo.cum_w_urban),
                              (False, geo.active_rural, geo.cum_w_rural)):
        sel = urban == flag
        idx = np.minimum(np.searchsorted(cum, u[sel], side="right"), len(cum) - 1)
        out[sel] = active[idx]
    return out


@dataclass
class Standards:
    """Local standards, fen per person per month, indexed [county, urban(0/1), year - y0]."""

    first_year: int
    dibao: np.ndarray  # int64
    ep_basic: np.ndarray  # int64

    def years(self) -> range:
        return range(self.first_year, self.first_year + self.dibao.shape[2])

    def dibao_for(self, county: np.ndarray, urban: np.ndarray, year: int) -> np.ndarray:
        return self.dibao[county, urban.astype(np.int64), year - self.first_year]

    def ep_for(self, county: np.ndarray, urban: np.ndarray, year: int) -> np.ndarray:
        return self.ep_basic[county, urban.astype(np.int64), year - self.first_year]

    def table(self, geo: Geo) -> pa.Table:
        """standards.csv: one row per county × registration × kind × January step."""
        rows: dict[str, list] = {"region": [], "registration": [], "kind": [],
                                 "effective_from": [], "amount": []}
        for c, code in enumerate(geo.county_code):
            for u, reg in ((1, "urban"), (0, "rural")):
                for kind, arr in (("dibao", self.dibao), ("extremely_poor_basic", self.ep_basic)):
                    for y in self.years():
                        rows["region"].append(code + "000000")
                        rows["registration"].append(reg)
                        rows["kind"].append(kind)
                        rows["effective_from"].append(f"{y:04d}-01-01")
                        fen = int(arr[c, u, y - self.first_year])
                        rows["amount"].append(f"{fen // 100}.{fen % 100:02d}")
        return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def build_standards(geo: Geo, first_year: int, last_year: int,
                    rng: np.random.Generator) -> Standards:
    """Shandong end-2024 averages (the base year) × a county factor × 7 % per January.

    City districts sit above the provincial average and rural counties below it; the
    factors are rescaled so that the plain mean over counties is exactly the average.
    """
    lo_d, hi_d = m.DISTRICT_FACTOR
    lo_c, hi_c = m.COUNTY_FACTOR
    f = np.where(geo.county_is_district, rng.uniform(lo_d, hi_d, geo.n_counties),
                 rng.uniform(lo_c, hi_c, geo.n_counties))
    f = f / f.mean()
    years = np.arange(first_year, last_year + 1)
    step = m.ANNUAL_STEP ** (years - m.STANDARD_BASE_YEAR)
    shape = (geo.n_counties, 2, len(years))
    dibao = np.empty(shape, np.int64)
    ep = np.empty(shape, np.int64)
    for u, reg in ((0, "rural"), (1, "urban")):
        # whole yuan, as officials publish them
        dibao[:, u, :] = np.rint(m.DIBAO_STANDARD[reg] * f[:, None] * step[None, :]) * 100
        ep[:, u, :] = np.rint(m.EP_BASIC_STANDARD[reg] * f[:, None] * step[None, :]) * 100
    return Standards(first_year, dibao, ep)
