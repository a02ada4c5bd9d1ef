"""Names for the codes a warning carries, for the zh-CN pages: its region as names (county down to
village, and its household's grid), and its indicator value with unit and meaning.

The codes stay in the answers for other systems; these fields are added beside them. The region
names of a whole page come from one query on `regions` (every ancestor of every code on the page)."""

from __future__ import annotations

import re

from sqlalchemy import Connection, select

from safetynet.regions.model import LEVEL_LABELS_ZH, Level
from safetynet.regions.store import regions
from safetynet.registry import search

#: levels above the county are left out of the short name: every list is read inside one province,
#: and a county name is what tells two villages of the same name apart
_SHORT_FROM = {Level.county.value, Level.township.value, Level.village.value, Level.grid.value}
SEPARATOR = " · "


def _codes(code: str | None) -> list[str]:
    return search._path_codes(code) if code else []  # noqa: SLF001 - the register's own path rule


def region_names(conn: Connection, codes: set[str | None]) -> dict[str, list[dict]]:
    """code → its path [{code, name, level, level_label}], province first, for every code given (a
    12-digit region or a 14-digit grid). One query for all of them; a code not in `regions` maps to
    the names of whatever ancestors are there."""
    wanted = {c for c in codes if c}
    needed = sorted({p for c in wanted for p in _codes(c)})
    rows: dict = {}
    for i in range(0, len(needed), 5000):  # bound the IN list (a page holds at most 200 warnings)
        chunk = needed[i:i + 5000]
        rows.update({r.code: r for r in conn.execute(
            select(regions.c.code, regions.c.name, regions.c.level).where(regions.c.code.in_(chunk)))})
    out = {}
    for code in wanted:
        path, seen = [], set()
        for c in _codes(code):
            if c in rows and c not in seen:
                seen.add(c)
                level = rows[c].level
                path.append({"code": c, "name": rows[c].name, "level": level,
                             "level_label": LEVEL_LABELS_ZH.get(Level(level), level)})
        out[code] = path
    return out


def short_name(path: list[dict]) -> str | None:
    """County · township · village (the levels present), e.g. 市中区 · 光明街道 · 西村."""
    names = [p["name"] for p in path if p["level"] in _SHORT_FROM and p["level"] != Level.grid.value]
    return SEPARATOR.join(names) or None


def grid_name(path: list[dict]) -> str | None:
    """The grid's own name (the last item of a grid's path), None when it is not a known grid."""
    return path[-1]["name"] if path and path[-1]["level"] == Level.grid.value else None


# --- indicator values ------------------------------------------------------------------------------

# indicator → (what the number measures, its unit), for the values the engine shows as a plain number
_COUNTS = {
    "hotline_help_requests": ("求助热线来电", "次"),
    "counted_vehicles_registered": ("登记计入车辆", "辆"),
    "homes_held": ("名下住房", "套"),
    "enrolments_per_person": ("同时享受救助", "处"),
}
_AMOUNTS = {"disaster_loss_amount": "灾害损失", "active_business_capital": "在营企业出资额"}
_NUMBER = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?")


def value_label(indicator: str | None, value: str | None) -> str | None:
    """The value as a zh-CN reader understands it, from the rule's (first) indicator:
    medical ratio 13.71 → 自付医疗费为家庭收入的 1371%; ∞ → 自付医疗费（家庭无计入收入）; a drop
    -35% → 收入较前 6 个月平均下降 35%; an amount → 灾害损失 12,345.00 元; a count → 名下住房 3 套;
    months → 收入高于保障标准 4 个月. None without a value; a value of another shape is shown as
    it is, after 指标值 (never a bare figure or a word of English on a zh-CN page)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if indicator in ("medical_oop_ratio_month", "medical_oop_ratio_12m"):
        if text.startswith("∞"):
            return "自付医疗费（家庭无计入收入）"
        number = _number(text)
        return f"自付医疗费为家庭收入的 {round(number * 100):,}%" if number is not None else _plain(text)
    if indicator == "income_drop_share_6m" and text.endswith("%"):
        return f"收入较前期平均下降 {text.lstrip('-')}"
    if indicator in _AMOUNTS:
        amount = text.removesuffix("元").strip()
        return f"{_AMOUNTS[indicator]} {amount} 元" if _number(amount) is not None else _plain(text)
    if indicator in _COUNTS:
        what, unit = _COUNTS[indicator]
        return f"{what} {text} {unit}" if _number(text) is not None else _plain(text)
    if indicator == "months_income_above_tier_line":
        months = text.removesuffix("个月")
        return f"收入高于保障标准 {months} 个月" if _number(months) is not None else _plain(text)
    if text.startswith("died "):  # the death rules give the date of death
        return f"死亡日期 {text.removeprefix('died ').strip()}"
    return _plain(text)


def _plain(text: str) -> str:
    return f"指标值 {text}"


def _number(text: str) -> float | None:
    m = _NUMBER.match(text)
    if not m or m.end() != len(text):
        return None
    return float(m.group(0).replace(",", ""))
