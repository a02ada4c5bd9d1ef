"""Local standards for the caseworker's screens: what is in force for a place today (with the
level that set it: county, else city, else province) and the region's own history."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request

from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, ensure_in_scope, require
from safetynet.errors import NotFoundError
from safetynet.regions import service as regions_service
from safetynet.regions.model import Level, full_code
from safetynet.registry.model import REGISTRATION_LABELS
from safetynet.standards import model, service

router = APIRouter(prefix="/standards", tags=["standards 保障标准"])


def _item(row: dict) -> dict:
    return {
        "id": row["id"], "region_code": row["region_code"], "registration": row["registration"],
        "registration_label": REGISTRATION_LABELS.get(row["registration"], row["registration"]),
        "kind": row["kind"], "kind_label": model.KIND_LABELS.get(row["kind"], row["kind"]),
        "effective_from": row["effective_from"].isoformat(), "amount_fen": row["amount_fen"],
        "source": row["source"], "derived_from": row["derived_from"], "actor": row["actor"],
        "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else None,
    }


def in_force(rows_by_depth: list[list[dict]], on: dt.date) -> list[dict]:
    """Per (registration, kind): the latest value effective on `on`, the deepest region's
    own value winning over its city's and province's (as standards.service.lookup)."""
    best: dict[tuple[str, str], tuple[int, dt.date, dict]] = {}
    for depth, rows in enumerate(rows_by_depth):
        for r in rows:
            if r["effective_from"] > on:
                continue
            key = (r["registration"], r["kind"])
            rank = (depth, r["effective_from"])
            if key not in best or rank > best[key][:2]:
                best[key] = (depth, r["effective_from"], r)
    kinds = list(model.KIND_LABELS)
    ordered = sorted(best.values(), key=lambda b: (
        b[2]["registration"], kinds.index(b[2]["kind"]) if b[2]["kind"] in kinds else 99))
    return [_item(b[2]) for b in ordered]


@router.get("")
def standards(request: Request,
              region: str | None = Query(None, description="region code within yours; default: yours"),
              kind: str | None = Query(None, description="e.g. dibao"),
              page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=200),
              user: CurrentUser = Depends(require("standards.read"))) -> dict:
    """Standards in force today for the region (falling back to its city and province), and
    the region's own history (newest first, paginated in `items`). For a province or city also
    `counties`: each county below with the values in force there (standards are set per county)."""
    engine = request.app.state.engine
    code = region or user.region_code
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise errors.invalid("region", f"region must be a 2/4/6/9/12-digit code, got {code!r}",
                             "行政区划代码应为 2/4/6/9/12 位数字")
    if kind and kind not in model.KIND_LABELS:
        raise errors.invalid("kind", f"unknown kind {kind!r}; known: {', '.join(model.KIND_LABELS)}",
                             "未知的标准类别")
    try:
        place = regions_service.get_region(engine, code=code)
    except NotFoundError:
        raise errors.out_of_region() from None
    ensure_in_scope(user, place.code)
    ancestors = [full_code(p) if len(p) < 12 else p for p in place.path.rstrip("/").split("/")]
    by_depth = [[r for r in service.history(engine, region=a) if not kind or r["kind"] == kind]
                for a in ancestors]
    own = sorted(by_depth[-1], key=lambda r: (r["effective_from"], r["id"]), reverse=True)
    start = (page - 1) * page_size
    today = dt.date.today()
    out = {"region": {"code": place.code, "name": place.name, "level": place.level.value},
           "on": today.isoformat(), "in_force": in_force(by_depth, today),
           "items": [_item(r) for r in own[start:start + page_size]], "total": len(own),
           "page": page, "page_size": page_size}
    if place.level in (Level.province, Level.city):
        # standards are set per county: a province or city sees those of every county below it
        counties = service.in_force_by_county(engine, path=place.path, on=today)
        if kind:
            for c in counties:
                c["values"] = {reg: {k: v for k, v in kinds.items() if k == kind}
                               for reg, kinds in c["values"].items()}
        for c in counties:
            c["effective_from"] = c["effective_from"].isoformat() if c["effective_from"] else None
        out["counties"] = counties
        out["kind_labels"] = model.KIND_LABELS
    return out
