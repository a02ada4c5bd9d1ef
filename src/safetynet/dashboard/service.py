"""Dashboard figures for one region: counts by tier for it and each child region, and the
enrolment trend by month, all within the caller's scope.

Each figure is one grouped query over the region's subtree (the `households.region_code`
index range), never one query per child region: a province has ~140 counties and ~20,000
villages below it.
"""

from __future__ import annotations

import calendar
import datetime as dt

from sqlalchemy import Engine, case, func, or_, select

from safetynet.errors import NotFoundError
from safetynet.monitoring import views as warning_views
from safetynet.regions import store as regions_store
from safetynet.regions.model import LEVEL_LABELS_ZH, Level, full_code, short_code
from safetynet.registry import model as registry_model
from safetynet.registry import search
from safetynet.registry import store as registry_store

TREND_MONTHS = 12
_h, _pt, _ht = registry_store.households, registry_store.person_tiers, registry_store.household_tiers


def _live(table, on: dt.date):  # noqa: ANN001, ANN202
    return (table.c.since <= on) & or_(table.c.until.is_(None), table.c.until > on)


def month_ends(today: dt.date, months: int = TREND_MONTHS) -> list[tuple[str, dt.date]]:
    """(YYYY-MM, the day counted) for the last `months` months, oldest first; the current
    month is counted as of today."""
    out = []
    y, m = today.year, today.month
    for _ in range(months):
        last = dt.date(y, m, calendar.monthrange(y, m)[1])
        out.append((f"{y:04d}-{m:02d}", min(last, today)))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _region_item(region) -> dict:  # noqa: ANN001
    return {"code": region.code, "name": region.name, "level": region.level.value,
            "level_label": LEVEL_LABELS_ZH[region.level]}


def summary(engine: Engine, *, region: str, scope: str, on: dt.date | None = None,
            warning_needs: tuple[str, ...] | None = None) -> dict:
    """Counts for `region` (must lie in `scope`, else NotFoundError) and its child regions, and the
    warnings of the latest monitored month by level (`warning_needs`: only those needs, for a
    department liaison; None: every need)."""
    on = on or dt.date.today()
    within = search.narrower(scope, region)
    if within is None or within != search.scope_prefix(region):
        raise NotFoundError(f"region {region} not found")
    code = within if len(within) in (12, 14) else full_code(within)
    with engine.connect() as conn:
        place = regions_store.get(conn, code)
        if place is None:
            raise NotFoundError(f"region {region} not found")
        children = regions_store.children(conn, code)
        in_region = search.region_condition(within)
        key = _child_key(place.level, children)
        persons: dict[str | None, dict[str, int]] = {}
        for child, tier, n in conn.execute(
            select(key, _pt.c.tier, func.count()).join(_h, _h.c.id == _pt.c.household_id)
            .where(in_region, _live(_pt, on)).group_by(key, _pt.c.tier)
        ):
            persons.setdefault(child, {})[tier] = n
        households: dict[str | None, dict[str, int]] = {}
        for child, tier, n in conn.execute(
            select(key, _ht.c.tier, func.count()).join(_h, _h.c.id == _ht.c.household_id)
            .where(in_region, _live(_ht, on)).group_by(key, _ht.c.tier)
        ):
            households.setdefault(child, {})[tier] = n
        trend = _trend(conn, in_region, on)
        month = warning_views.latest_month(conn)
        warnings = (warning_views.summary(conn, scope=warning_views.Scope(within, warning_needs), month=month)
                    if month else None)

    def total(groups: dict) -> dict[str, int]:
        out: dict[str, int] = {}
        for counts in groups.values():
            for tier, n in counts.items():
                out[tier] = out.get(tier, 0) + n
        return _ordered(out)

    child_items = []
    for c in children:
        k = _key_of(c)
        p, hh = _ordered(persons.get(k, {})), _ordered(households.get(k, {}))
        child_items.append({**_region_item(c), "persons_by_tier": p, "persons": sum(p.values()),
                            "households_by_tier": hh, "households": sum(hh.values())})
    by_tier, hh_by_tier = total(persons), total(households)
    return {
        "region": {**_region_item(place), "parent_code": place.parent_code,
                   "path": regions_path(engine, code)},
        "on": on.isoformat(),
        "tier_labels": {t: label for t, label in registry_model.TIER_LABELS.items() if t != "none"},
        "persons_by_tier": by_tier, "persons": sum(by_tier.values()),
        "households_by_tier": hh_by_tier, "households": sum(hh_by_tier.values()),
        "children": child_items,
        "trend": trend,
        "warnings_month": month,
        "warnings_by_level": warnings["by_level"] if warnings else {},
    }


def regions_path(engine: Engine, code: str) -> list[dict]:
    with engine.connect() as conn:
        return search.region_path(conn, code)


def _key_of(child) -> str:  # noqa: ANN001
    return child.code if child.level is Level.grid else short_code(child.code)


def _child_key(level: Level, children: list):  # noqa: ANN202
    """The SQL expression naming each household's child region (the code's prefix of the
    children's length; for a village, the household's grid)."""
    if level in (Level.village, Level.grid) or not children:
        return _h.c.grid_code
    length = len(_key_of(children[0]))
    return func.substr(_h.c.region_code, 1, length)


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Tiers deepest first, so every chart lists them in the same order."""
    return {t: counts[t] for t in sorted(counts, key=lambda t: registry_model.TIER_DEPTH.get(t, 99))}


def _trend(conn, in_region, on: dt.date) -> list[dict]:  # noqa: ANN001
    """Persons per tier at each month's end over the last 12 months: one pass over the
    subtree's tier intervals with one conditional count per month."""
    months = month_ends(on)
    cols = [func.sum(case((_live(_pt, day), 1), else_=0)).label(f"m{i}")
            for i, (_, day) in enumerate(months)]
    rows = conn.execute(
        select(_pt.c.tier, *cols).join(_h, _h.c.id == _pt.c.household_id)
        .where(in_region, _pt.c.since <= on,
               or_(_pt.c.until.is_(None), _pt.c.until > months[0][1]))
        .group_by(_pt.c.tier)
    ).all()
    tiers = [t for t in registry_model.TIER_LABELS if t != "none"]
    out = []
    for i, (month, _) in enumerate(months):
        counts = {t: 0 for t in tiers}
        for row in rows:
            counts[row.tier] = counts.get(row.tier, 0) + int(row[i + 1] or 0)
        out.append({"month": month, **counts, "total": sum(counts.values())})
    return out
