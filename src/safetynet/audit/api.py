"""`GET /api/v1/audit`: search the audit log (capability audit.read, within the reader's region)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request

from safetynet.audit import service
from safetynet.auth.deps import CurrentUser, require

router = APIRouter(tags=["audit 审计日志"])


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@router.get("/audit")
def search(request: Request, actor: str | None = None, object_type: str | None = None,
           object_id: str | None = None, action: str | None = None,
           from_: dt.datetime | None = Query(None, alias="from", description="ISO time, inclusive (UTC)"),
           to: dt.datetime | None = Query(None, description="ISO time, exclusive (UTC)"),
           page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=200),
           user: CurrentUser = Depends(require("audit.read"))) -> dict:
    return service.search(request.app.state.engine, scope_prefix=user.scope_prefix, actor=actor,
                          object_type=object_type, object_id=object_id, action=action, from_=_utc(from_),
                          to=_utc(to), page=page, page_size=page_size)
