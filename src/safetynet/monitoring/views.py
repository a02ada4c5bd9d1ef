"""Read side of the warnings for the web screens: a month's list, its counts, one warning with every
month it fired, and the monitor runs. Every query takes the reader's `Scope` and filters in SQL, so
nothing outside it is read: the region subtree (a grid worker: the households of their grid), and for
a department liaison only the needs pushed to their department. Identity numbers, names and household
numbers are masked here; the caller (api) audits the detail read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, false, func, select

from safetynet import identity
from safetynet.errors import NotFoundError
from safetynet.monitoring import names
from safetynet.monitoring.store import monitor_runs, warning_firings, warnings
from safetynet.monitoring.warnings import LEVEL_RANK, check_month
from safetynet.registry import search
from safetynet.registry import store as registry_store

MAX_PAGE_SIZE = 200
# A department liaison's needs come from the closed loop's routing table in force
# (casework.service.department_needs): the API hands them in as `Scope.needs`.

_w, _f = warnings, warning_firings
_h, _p = registry_store.households, registry_store.persons


@dataclass(frozen=True)
class Scope:
    """What one reader may see: `region` a region code (2–12 digits, or a 14-digit grid) and `needs`
    None for every need, else only these (a department liaison)."""

    region: str
    needs: tuple[str, ...] | None = None


def _region_condition(code: str):  # noqa: ANN202
    """SQL: the warning lies in the region's subtree; a grid: its household is in that grid (a
    warning without a registered household belongs to no grid)."""
    prefix = search.scope_prefix(code)
    if len(prefix) == 14:
        return _w.c.household_id.in_(select(_h.c.id).where(_h.c.grid_code == prefix))
    return search.region_condition(prefix, region_col=_w.c.region_code, grid_col=None)


def _scope_conditions(scope: Scope) -> list:
    conds = [_region_condition(scope.region)]
    if scope.needs is not None:
        conds.append(_w.c.need.in_(scope.needs) if scope.needs else false())
    return conds


def narrowed(scope: Scope, region: str | None) -> Scope:
    """The scope narrowed to a region filter; NotFoundError when the region lies outside it (the
    caller answers 404, as for a missing one). InvalidQuery for a malformed code."""
    within = search.narrower(scope.region, region)
    if within is None:
        raise NotFoundError(f"region {region} not found")
    return Scope(within, scope.needs)


def latest_month(conn: Connection) -> str | None:
    """The latest month with a finished monitor run (None before the first)."""
    return conn.execute(select(func.max(monitor_runs.c.month))
                        .where(monitor_runs.c.status == "finished")).scalar_one()


def _severity(level_col):  # noqa: ANN001, ANN202
    return case(dict(LEVEL_RANK), value=level_col, else_=-1)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person_name():  # noqa: ANN202
    return select(_p.c.name).where(_p.c.id == _w.c.person_id).scalar_subquery()


def _grid_code():  # noqa: ANN202
    return select(_h.c.grid_code).where(_h.c.id == _w.c.household_id).scalar_subquery()


def _place(row, paths: dict[str, list[dict]]) -> dict:  # noqa: ANN001
    """The region and grid by name beside their codes (the codes stay for other systems)."""
    path = paths.get(row.region_code) or []
    grid_path = paths.get(row.grid_code, []) if row.grid_code else []
    return {"region_name": names.short_name(path), "region_path": path, "grid_code": row.grid_code,
            "grid_name": names.grid_name(grid_path)}


def _item(row, catalogue: dict[str, dict], paths: dict[str, list[dict]]) -> dict:  # noqa: ANN001
    rule = catalogue.get(row.rule, {})
    return {
        "warning_id": row.id, "rule": row.rule, "rule_name_zh": rule.get("name_zh", row.rule),
        "rule_name_en": rule.get("name_en", row.rule), "need": row.need, "side": row.side,
        "level": row.level, "status": row.status, "month": row.shown_month, "raised_month": row.month,
        "last_month": row.last_month, "fired_months": row.fired_months, "value": row.value,
        "id_number": identity.mask_id_number(row.id_number),
        "name": identity.mask_name(row.person_name) if row.person_name else None,
        "person_id": row.person_id, "household_id": row.household_id,
        "household_no": identity.mask_household_no(row.household_no) if row.household_no else None,
        "region_code": row.region_code, **_place(row, paths),
        "value_label": names.value_label(rule.get("indicator"), row.value),
    }


def list_warnings(conn: Connection, *, scope: Scope, month: str | None, catalogue: dict[str, dict],
                  rule: str | None = None, level: str | None = None, status: str | None = None,
                  need: str | None = None, side: str | None = None, household_id: int | None = None,
                  household_no: str | None = None, page: int = 1, page_size: int = 20) -> dict:
    """With `month`: the warnings that fired that month, with that month's level and value. Without
    (only for one household's list): each of its warnings once, at its highest level and latest value.
    Most severe first, then newest. `catalogue`: rule id → {name_zh, name_en, indicator} for the rule
    names and the values' labels. Region and grid names of the page: one more query."""
    conds = _scope_conditions(scope)
    if month is not None:
        check_month(month)
        source = _f.join(_w, _w.c.id == _f.c.warning_id)
        conds.append(_f.c.month == month)
        level_col, value_col, shown_month = _f.c.level, _f.c.value, _f.c.month
    else:
        source = _w
        level_col, value_col, shown_month = _w.c.level, _w.c.value, _w.c.last_month
    for column, wanted in ((_w.c.rule, rule), (level_col, level), (_w.c.status, status),
                           (_w.c.need, need), (_w.c.side, side), (_w.c.household_id, household_id),
                           (_w.c.household_no, household_no)):
        if wanted is not None and wanted != "":
            conds.append(column == wanted)
    where = and_(*conds)
    query = (select(_w.c.id, _w.c.rule, _w.c.need, _w.c.side, level_col.label("level"), _w.c.status,
                    shown_month.label("shown_month"), _w.c.month, _w.c.last_month, _w.c.fired_months,
                    value_col.label("value"), _w.c.id_number, _w.c.person_id, _w.c.household_id,
                    _w.c.household_no, _w.c.region_code, _person_name().label("person_name"),
                    _grid_code().label("grid_code"))
             .select_from(source).where(where)
             .order_by(_severity(level_col).desc(), shown_month.desc(), _w.c.id.desc())
             .limit(page_size).offset((page - 1) * page_size))
    total = conn.execute(select(func.count()).select_from(source).where(where)).scalar_one()
    rows = conn.execute(query).all()
    paths = names.region_names(conn, {r.region_code for r in rows} | {r.grid_code for r in rows})
    items = [_item(r, catalogue, paths) for r in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size, "month": month}


def summary(conn: Connection, *, scope: Scope, month: str) -> dict:
    """Counts of the warnings that fired in `month` inside the scope: total, and by rule, level (that
    month's), need, side and status."""
    check_month(month)
    source = _f.join(_w, _w.c.id == _f.c.warning_id)
    where = and_(_f.c.month == month, *_scope_conditions(scope))
    out: dict = {"month": month}
    for key, column in (("by_rule", _w.c.rule), ("by_level", _f.c.level), ("by_need", _w.c.need),
                        ("by_side", _w.c.side), ("by_status", _w.c.status)):
        rows = conn.execute(select(column, func.count()).select_from(source).where(where).group_by(column))
        out[key] = {(k if k is not None else "none"): n for k, n in rows}
    out["total"] = sum(out["by_level"].values())
    out["by_level"] = {lv: out["by_level"].get(lv, 0) for lv in sorted(LEVEL_RANK, key=LEVEL_RANK.get)} | {
        k: v for k, v in out["by_level"].items() if k not in LEVEL_RANK}
    return out


def warning_detail(conn: Connection, *, warning_id: int, scope: Scope) -> dict:
    """One warning in the scope with every month it fired (oldest first) and its person and household
    (masked). Outside the scope or missing: NotFoundError."""
    row = conn.execute(
        select(_w, _person_name().label("person_name"),
               select(_h.c.household_no).where(_h.c.id == _w.c.household_id).scalar_subquery()
               .label("registered_household_no"), _grid_code().label("grid_code"))
        .where(_w.c.id == warning_id, *_scope_conditions(scope))).first()
    if row is None:
        raise NotFoundError(f"warning {warning_id} not found")
    firings = conn.execute(select(_f.c.month, _f.c.level, _f.c.value, _f.c.evidence, _f.c.run_id)
                           .where(_f.c.warning_id == warning_id).order_by(_f.c.month)).all()
    paths = names.region_names(conn, {row.region_code, row.grid_code})
    return {
        "warning_id": row.id, "rule": row.rule, "need": row.need, "side": row.side, "level": row.level,
        "status": row.status, "raised_month": row.month, "last_month": row.last_month,
        "fired_months": row.fired_months, "value": row.value, "region_code": row.region_code,
        **_place(row, paths),
        "id_number": identity.mask_id_number(row.id_number),
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "person": {"person_id": row.person_id,
                   "name": identity.mask_name(row.person_name) if row.person_name else None,
                   "id_number": identity.mask_id_number(row.id_number)},
        "household": {"household_id": row.household_id,
                      "household_no": identity.mask_household_no(row.household_no) if row.household_no
                      else None,
                      # the register's number addresses the household page (/households/{no}); only for
                      # a household still in the register
                      "registered_household_no": row.registered_household_no},
        "firings": [{"month": x.month, "level": x.level, "value": x.value, "run_id": x.run_id,
                     "evidence": _evidence(x.evidence)} for x in firings],
    }


def _evidence(value: object) -> list[dict]:
    """Evidence as [{feed, record_id, month}] (stored as JSON; SQLite may hand back text)."""
    if isinstance(value, str):
        import json

        value = json.loads(value)
    return [{"feed": e.get("feed"), "record_id": e.get("record_id"), "month": e.get("month")}
            for e in (value or []) if isinstance(e, dict)]


def _scoped_counts(counts: object, prefix: str) -> object:
    """A run's counts as a reader bound to region `prefix` may see them: all of them for the
    province; else only the figures keyed by region codes of their subtree (or above it), without
    the run's totals by rule and level (figures of other regions)."""
    if len(prefix) <= 2 or not isinstance(counts, dict):
        return counts
    out: dict = {}
    for key, value in counts.items():
        if "region" in key and isinstance(value, dict):
            out[key] = {code: n for code, n in value.items()
                        if str(code).startswith(prefix) or prefix.startswith(str(code))}
    return out


def list_runs(conn: Connection, *, scope: Scope, month: str | None = None, page: int = 1,
              page_size: int = 20) -> dict:
    """Monitor runs, newest first: month, engine, status, time and peak memory, counts."""
    r = monitor_runs
    conds = []
    if month:
        conds.append(r.c.month == check_month(month))
    total = conn.execute(select(func.count()).select_from(r).where(*conds)).scalar_one()
    rows = conn.execute(select(r).where(*conds).order_by(r.c.id.desc())
                        .limit(page_size).offset((page - 1) * page_size)).all()
    prefix = search.scope_prefix(scope.region)
    items = [{"run_id": x.id, "month": x.month, "engine": x.engine, "status": x.status,
              "started_at": _iso(x.started_at), "finished_at": _iso(x.finished_at), "seconds": x.seconds,
              "peak_rss_bytes": x.peak_rss_bytes,
              "peak_memory_mb": round(x.peak_rss_bytes / 2**20, 1) if x.peak_rss_bytes else None,
              "counts": _scoped_counts(x.counts, prefix), "actor": x.actor,
              "catalogue_digest": x.catalogue_digest} for x in rows]
    out = {"items": items, "total": total, "page": page, "page_size": page_size}
    if len(prefix) > 2:
        out["scoped_to"] = prefix
    return out
