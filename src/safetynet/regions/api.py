"""Region lookups for pickers and breadcrumbs, scoped to the signed-in user's subtree."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, ensure_in_scope, require
from safetynet.errors import NotFoundError
from safetynet.regions import service, store
from safetynet.regions.model import LEVEL_LABELS_ZH, Level, Region, full_code, short_code

router = APIRouter(prefix="/regions", tags=["regions 行政区划"])


def _item(r: Region) -> dict:
    return {"code": r.code, "short_code": short_code(r.code), "name": r.name, "level": r.level.value,
            "level_label": LEVEL_LABELS_ZH[r.level], "parent_code": r.parent_code, "urban": r.urban}


def _get(request: Request, code: str, user: CurrentUser) -> Region:
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12, 14):
        raise errors.invalid("code", f"region code must be 2/4/6/9/12 digits (14 for a grid), got {code!r}",
                             "行政区划代码应为 2/4/6/9/12 位数字（网格为 14 位）")
    try:
        region = service.get_region(request.app.state.engine, code=code)
    except NotFoundError:
        raise errors.out_of_region() from None  # same answer as a region outside the scope
    ensure_in_scope(user, region.code)
    return region


@router.get("/{code}")
def region(code: str, request: Request, user: CurrentUser = Depends(require())) -> dict:
    """One region in your subtree with the names of its ancestors (province first)."""
    r = _get(request, code, user)
    codes = [full_code(p) if len(p) < 12 else p for p in r.path.rstrip("/").split("/")]
    with request.app.state.engine.connect() as conn:
        found = {row.code: row for row in conn.execute(
            select(store.regions.c.code, store.regions.c.name, store.regions.c.level)
            .where(store.regions.c.code.in_(codes)))}
    path = [{"code": c, "name": found[c].name, "level": found[c].level,
             "level_label": LEVEL_LABELS_ZH[Level(found[c].level)]} for c in codes if c in found]
    return {**_item(r), "path": path}


@router.get("/{code}/children")
def children(code: str, request: Request, page: int = Query(1, ge=1),
             page_size: int = Query(20, ge=1, le=200),
             user: CurrentUser = Depends(require())) -> dict:
    """The regions directly under one in your subtree (pass page_size=200 for a whole level)."""
    r = _get(request, code, user)
    engine = request.app.state.engine
    with engine.connect() as conn:
        kids = store.children(conn, r.code)
    start = (page - 1) * page_size
    return {"items": [_item(k) for k in kids[start:start + page_size]], "total": len(kids),
            "page": page, "page_size": page_size}
