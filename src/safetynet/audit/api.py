"""`GET /api/v1/audit`: search the audit log (capability audit.read, within the reader's region), and
`GET /api/v1/audit/export.xlsx`: the same rows as Excel. Rows carry Chinese labels and object names
beside the codes (audit/labels.py)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from safetynet import exports
from safetynet.audit import labels, service
from safetynet.auth.deps import CurrentUser, now, require
from safetynet.spreadsheet import Column

router = APIRouter(tags=["audit 审计日志"])
_FROM = Query(None, alias="from", description="ISO time, inclusive (UTC unless it names its offset)")
_TO = Query(None, description="ISO time, exclusive (UTC unless it names its offset)")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@router.get("/audit")
def search(request: Request, actor: str | None = None, object_type: str | None = None,
           object_id: str | None = None, action: str | None = None,
           from_: dt.datetime | None = _FROM, to: dt.datetime | None = _TO,
           page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=200),
           user: CurrentUser = Depends(require("audit.read"))) -> dict:
    """Newest first. Each row also has `at_local` (Beijing time), `action_label`, `result_label`,
    `object_type_label`, `object_label` (a person's masked name, the household number …) and
    `purpose_label`."""
    engine = request.app.state.engine
    out = service.search(engine, scope_prefix=user.scope_prefix, actor=actor, object_type=object_type,
                         object_id=object_id, action=action, from_=_utc(from_), to=_utc(to), page=page,
                         page_size=page_size)
    with engine.connect() as conn:
        labels.labelled(conn, out["items"])
    return out


_COLUMNS = [Column("时间（北京时间）", 20), Column("操作人", 16), Column("操作人区划", 14),
            Column("操作", 12), Column("对象类型", 12), Column("对象", 24), Column("涉及字段", 30),
            Column("事由", 30), Column("结果", 8), Column("说明", 20)]
_FILTERS = {"actor": "操作人", "object_type": "对象类型", "object_id": "对象编号", "action": "操作",
            "from": "开始时间", "to": "结束时间"}


@router.get("/audit/export.xlsx", summary="The audit log search as Excel 导出审计日志")
def export(request: Request, actor: str | None = None, object_type: str | None = None,
           object_id: str | None = None, action: str | None = None,
           from_: dt.datetime | None = _FROM, to: dt.datetime | None = _TO,
           user: CurrentUser = Depends(require("audit.read"))) -> Response:
    """The same rows as the search (scope and filters), labelled as the page shows them, times in
    Beijing time; at most 50,000 rows (more answers 400). The export is itself audited."""
    engine = request.app.state.engine
    args = {"scope_prefix": user.scope_prefix, "actor": actor, "object_type": object_type,
            "object_id": object_id, "action": action, "from_": _utc(from_), "to": _utc(to)}
    total = service.search(engine, page_size=1, **args)["total"]
    exports.check_size(total)
    items = service.search(engine, page_size=max(total, 1), **args)["items"]
    with engine.connect() as conn:
        labels.labelled(conn, items)
    # the time as a date cell (the writer turns it into Beijing time), so a sheet sorts and filters it
    rows = [[dt.datetime.fromisoformat(i["at"]).replace(microsecond=0), i["actor"], i["actor_region"],
             i["action_label"],
             i["object_type_label"], i["object_label"], i["fields_label"], i["purpose_label"],
             i["result_label"], i["detail"]]
            for i in items]
    used = exports.filters_text({"actor": actor,
                                 "object_type": labels.OBJECT_TYPE_LABELS.get(object_type or "", object_type),
                                 "object_id": object_id,
                                 "action": labels.ACTION_LABELS.get(action or "", action),
                                 "from": from_ and labels.at_text(_utc(from_)),
                                 "to": to and labels.at_text(_utc(to))}, _FILTERS)
    data = exports.workbook("审计日志", _COLUMNS, rows, user=user, filters=used, now=now(request))
    return exports.answer(engine, data, user=user, object_type="audit_log", rows=len(rows),
                          filename="审计日志.xlsx", filters=used,
                          fields=["at", "actor", "action", "object", "fields", "purpose", "result"])
