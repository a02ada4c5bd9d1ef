"""The feed load ledger for data officers: every delivered file, when, by whom, with what
outcome (docs/contracts/feeds.md). A department liaison sees only their department's feeds.
Read-only; loading stays on the command line for now."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import and_, func, select

from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, require
from safetynet.feeds.model import FEED_BY_NAME, FEEDS_BY_DEPARTMENT
from safetynet.feeds.store import feed_loads

router = APIRouter(prefix="/feeds", tags=["feeds 部门数据"])

STATUS_LABELS = {"loaded": "已入库", "rejected": "已拒收"}
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
ERRORS_SHOWN = 20


def _item(row) -> dict:  # noqa: ANN001
    feed = FEED_BY_NAME.get(row.feed)
    errs = row.errors or []
    return {
        "id": row.id, "file_name": row.file_name, "feed": row.feed,
        "department": feed.department if feed else None, "month": row.month,
        "status": row.status, "status_label": STATUS_LABELS.get(row.status, row.status),
        "rows": row.rows, "accepted": row.accepted, "linked": row.linked,
        "quarantined": row.quarantined, "duplicate": row.duplicate, "corrected": row.corrected,
        "error_count": len(errs), "errors": errs[:ERRORS_SHOWN], "actor": row.actor,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "digest": row.digest,
    }


@router.get("/loads")
def loads(request: Request,
          feed: str | None = Query(None, description="feed name, e.g. social_insurance"),
          month: str | None = Query(None, description="YYYY-MM"),
          status: str | None = Query(None, description="loaded | rejected"),
          page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=200),
          user: CurrentUser = Depends(require("feeds.read"))) -> dict:
    """The load ledger, newest first."""
    conds = []
    if feed:
        if feed not in FEED_BY_NAME:
            raise errors.invalid("feed", f"unknown feed {feed!r}; known: {', '.join(FEED_BY_NAME)}",
                                 "未知的数据类别")
        conds.append(feed_loads.c.feed == feed)
    if month:
        if not _MONTH.match(month):
            raise errors.invalid("month", f"month must be YYYY-MM, got {month!r}", "月份格式应为 YYYY-MM")
        conds.append(feed_loads.c.month == month)
    if status:
        if status not in STATUS_LABELS:
            raise errors.invalid("status",
                                 f"status must be one of {', '.join(STATUS_LABELS)}, got {status!r}",
                                 "状态应为 loaded（已入库）或 rejected（已拒收）")
        conds.append(feed_loads.c.status == status)
    if user.role == "department_liaison":
        conds.append(feed_loads.c.feed.in_(FEEDS_BY_DEPARTMENT.get(user.department or "", ())))
    where = and_(True, *conds)
    with request.app.state.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(feed_loads).where(where)).scalar_one()
        rows = conn.execute(select(feed_loads).where(where).order_by(feed_loads.c.id.desc())
                            .limit(page_size).offset((page - 1) * page_size)).all()
    return {"items": [_item(r) for r in rows], "total": total, "page": page, "page_size": page_size}
