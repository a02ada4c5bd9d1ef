"""Closed-loop endpoints (闭环处置): the task inbox and one task, the workflow actions and feedback, the
household's assistance chain (also as Excel), assistance recorded directly, in-platform notifications,
the routing table, and the dispatch and overdue sweep for data officers. Scoped like the warnings: the
user's region subtree (a grid worker: their grid), a liaison only their department's tasks; reads of a
task or a chain are audited in the read's own transaction."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update

from safetynet import exports
from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, current_user, now, require
from safetynet.auth.model import DEPARTMENTS, Role
from safetynet.casework import bulk, feedback, service, views, visit
from safetynet.casework import chain as chain_view
from safetynet.casework.model import (
    ASSISTANCE_KINDS,
    OUTCOME_LABELS,
    OUTCOMES,
    STATUS_LABELS,
    TYPE_LABELS,
    Queue,
    Status,
    TaskType,
)
from safetynet.casework.policy import ROUTING_DEPARTMENTS, ROUTING_LEVELS, PolicyError
from safetynet.casework.store import notifications
from safetynet.errors import NotFoundError
from safetynet.monitoring.catalogue import LEVEL_LABELS, NEED_LABELS, NEEDS
from safetynet.monitoring.warnings import WarningInputError, check_month
from safetynet.registry import search
from safetynet.spreadsheet import XLSX_MEDIA_TYPE, Column

router = APIRouter(tags=["casework 闭环处置"])

_PAGE = Query(1, ge=1, description="1-based page")
_PAGE_SIZE = Query(20, ge=1, le=views.MAX_PAGE_SIZE, description="rows per page (max 200)")
TASK_FIELDS = ("warning", "status", "history", "feedback", "household")


def _bad(field: str, message: str, message_zh: str) -> errors.ApiError:
    return errors.invalid(field, message, message_zh)


def _check_filters(status: str | None, task_type: str | None, need: str | None) -> None:
    if status and status not in Status.__members__:
        raise _bad("status", f"status must be one of {', '.join(Status)}, got {status!r}", "任务状态无效")
    if task_type and task_type not in TaskType.__members__:
        raise _bad(
            "task_type", f"task_type must be one of {', '.join(TaskType)}, got {task_type!r}", "任务类型无效"
        )
    if need and need not in NEEDS:
        raise _bad("need", f"need must be one of {', '.join(NEEDS)}, got {need!r}", "需求类别无效")


def _with_rule_names(items: list[dict]) -> list[dict]:
    """Each task's warning rule by name (the catalogue in use; the id where it no longer has the rule)."""
    from safetynet.monitoring.api import rule_names

    names = rule_names()
    for item in items:
        name = names.get(item["warning_rule"], {})
        item["rule_name_zh"] = name.get("name_zh", item["warning_rule"])
        item["rule_name_en"] = name.get("name_en", item["warning_rule"])
    return items


def _scoped_region(region: str | None) -> None:
    if region:
        try:
            search.scope_prefix(region)
        except search.InvalidQuery as e:
            raise _bad(e.field, str(e), e.message_zh) from None


@router.get("/tasks", summary="Tasks in your region, or your inbox (mine=true) 任务列表")
def list_tasks(
    request: Request,
    mine: bool = Query(False, description="only tasks in your queues or accepted by you"),
    status: str | None = Query(None),
    task_type: str | None = Query(None),
    need: str | None = Query(None),
    overdue: bool = Query(False, description="open and past deadline"),
    open: bool = Query(False, description="only open tasks (not closed)"),
    region: str | None = Query(None, description="region code within yours"),
    household_id: int | None = Query(None),
    warning_id: int | None = Query(None),
    page: int = _PAGE,
    page_size: int = _PAGE_SIZE,
    user: CurrentUser = Depends(require("tasks.read")),
) -> JSONResponse:
    """Items: task, type and state (with labels), need, department, queue and assignee, deadline and
    whether overdue, the warning's rule and level, masked name and household number. Open tasks first,
    nearest deadline first."""
    _check_filters(status, task_type, need)
    _scoped_region(region)
    try:
        with search.reading(request.app.state.engine) as conn:
            out = views.list_tasks(
                conn,
                user=user,
                now=now(request),
                mine=mine,
                status=status,
                task_type=task_type,
                need=need,
                overdue=overdue,
                open_only=open,
                region=region,
                household_id=household_id,
                warning_id=warning_id,
                page=page,
                page_size=page_size,
            )
        _with_rule_names(out["items"])
        return JSONResponse(out)
    except NotFoundError:
        raise errors.out_of_region() from None


@router.get("/tasks/counts", summary="Your inbox's counts 待办统计")
def task_counts(request: Request, user: CurrentUser = Depends(require("tasks.read"))) -> JSONResponse:
    with search.reading(request.app.state.engine) as conn:
        return JSONResponse(views.inbox_counts(conn, user=user, now=now(request)))


@router.get("/tasks/figures", summary="Closed-loop figures of your region 闭环处置统计")
def task_figures(
    request: Request,
    region: str | None = Query(None, description="region code within yours"),
    user: CurrentUser = Depends(require("dashboard.read")),
) -> JSONResponse:
    """Tasks created, closed, open, overdue and escalated; closure rate; median hours to first action;
    overdue open tasks by township; assistance records and their amount (fen)."""
    _scoped_region(region)
    try:
        with search.reading(request.app.state.engine) as conn:
            return JSONResponse(views.figures(conn, user=user, now=now(request), region=region))
    except NotFoundError:
        raise errors.out_of_region() from None


@router.get("/tasks/forms", summary="Labels and the feedback forms' choices 任务表单选项")
def task_forms() -> JSONResponse:
    """Labels only, no data: any signed-in user (a charity needs the kinds of aid to record one)."""
    return JSONResponse(
        {
            "statuses": {s.value: STATUS_LABELS[s] for s in Status},
            "types": {t.value: TYPE_LABELS[t] for t in TaskType},
            "outcomes": {
                t.value: [{"value": o, "label": OUTCOME_LABELS[o]} for o in OUTCOMES[t]] for t in TaskType
            },
            "assistance_kinds": {
                k: {"zh": v["zh"], "en": v["en"], "by": list(v["by"])} for k, v in ASSISTANCE_KINDS.items()
            },
            "max_attachment_bytes": feedback.MAX_ATTACHMENT_BYTES,
            "attachment_types": list(feedback.ATTACHMENT_TYPES),
        }
    )


_EXPORT_COLUMNS = [
    Column(bulk.ID, 10), Column("任务类型", 10), Column("处置状态", 10), Column("预警规则", 28),
    Column("预警等级", 8), Column("需求类别", 10), Column("承办部门", 10), Column("姓名", 8),
    Column("户编号", 14), Column("所在队列", 24), Column("承办人", 12), Column("办理期限", 17),
    Column("是否逾期", 8), Column("创建时间", 17),
]
_EXPORT_FILTERS = {"mine": "范围", "status": "处置状态", "task_type": "任务类型", "need": "需求类别",
                   "overdue": "仅逾期", "open": "仅未办结", "region": "区划", "household_id": "家庭",
                   "warning_id": "预警编号"}


def _zh(labels: dict, value: str | None) -> str | None:
    return labels.get(value, {}).get("zh", value) if value else None


@router.get("/tasks/export.xlsx", summary="The task list as Excel (a liaison's: answer columns) 导出任务列表")
def export_tasks(
    request: Request,
    mine: bool = Query(False), status: str | None = Query(None), task_type: str | None = Query(None),
    need: str | None = Query(None), overdue: bool = Query(False), open: bool = Query(False),
    region: str | None = Query(None), household_id: int | None = Query(None),
    warning_id: int | None = Query(None),
    user: CurrentUser = Depends(require("tasks.read")),
) -> Response:
    """The list with the same filters, scope and masking (every page; at most 50,000 rows, more
    answers 400), labels for codes and deadlines in Beijing time. A liaison's has empty answer columns
    to fill in and upload to `POST /tasks/feedback/bulk`. Audited as an export."""
    _check_filters(status, task_type, need)
    _scoped_region(region)
    args = {"user": user, "now": now(request), "mine": mine, "status": status, "task_type": task_type,
            "need": need, "overdue": overdue, "open_only": open, "region": region,
            "household_id": household_id, "warning_id": warning_id}
    try:
        with search.reading(request.app.state.engine) as conn:
            total = views.list_tasks(conn, page_size=1, **args)["total"]
            exports.check_size(total)
            items = views.list_tasks(conn, page_size=max(total, 1), **args)["items"]
    except NotFoundError:
        raise errors.out_of_region() from None
    _with_rule_names(items)
    liaison = user.role == Role.department_liaison.value
    columns = _EXPORT_COLUMNS + ([Column(t, 14) for t in bulk.ANSWER_COLUMNS] if liaison else [])
    rows = [[i["task_id"], _zh(TYPE_LABELS, i["task_type"]), _zh(STATUS_LABELS, i["status"]),
             i["rule_name_zh"], LEVEL_LABELS.get(i["warning_level"], i["warning_level"]),
             NEED_LABELS.get(i["need"], i["need"]),
             _zh(DEPARTMENTS, i["department"]), i["name"], i["household_no"],
             i["queue_region_name"] or i["queue_region"], i["assignee"],
             dt.datetime.fromisoformat(i["deadline_at"]) if i["deadline_at"] else None,
             "是" if i["overdue"] else "否", dt.datetime.fromisoformat(i["created_at"])] for i in items]
    used = exports.filters_text({"mine": "我的待办" if mine else "辖区全部",
                                 "status": _zh(STATUS_LABELS, status),
                                 "task_type": _zh(TYPE_LABELS, task_type),
                                 "need": need and NEED_LABELS.get(need),
                                 "overdue": "是" if overdue else None,
                                 "open": "是" if open else None, "region": region,
                                 "household_id": household_id, "warning_id": warning_id}, _EXPORT_FILTERS)
    data = exports.workbook("任务列表", columns, rows, user=user, filters=used, now=now(request))
    return exports.answer(request.app.state.engine, data, user=user, object_type="task_list", rows=len(rows),
                          filename="任务列表.xlsx", filters=used,
                          fields=["task", "status", "warning", "name", "household_no", "deadline"])


@router.post("/tasks/feedback/bulk", summary="Answer department pushes from a spreadsheet 批量反馈")
async def bulk_feedback(
    request: Request, file: UploadFile = File(..., description="the tasks export with answers filled in"),
    user: CurrentUser = Depends(require("tasks.work")),
) -> JSONResponse:
    """One row per task answered (任务编号, 反馈结果 已给予帮扶/不予帮扶, 帮扶类别, 帮扶日期, 帮扶金额（元）,
    不予帮扶理由, 反馈说明); rows without a 反馈结果 are left alone. Every row is checked first (400 naming
    the row and column); then each task gets its feedback in one transaction (all or nothing)."""
    data = await file.read(feedback.MAX_ATTACHMENT_BYTES + 1)
    if len(data) > feedback.MAX_ATTACHMENT_BYTES:
        raise _bad("file", "the file is larger than 10 MB", "文件不能超过 10 MB")
    at = now(request)
    answers = bulk.parse(data, today=at.date())
    done = bulk.apply(request.app.state.engine, answers, user=user, now=at)
    return JSONResponse({"answered": len(done), "tasks": [d["task_id"] for d in done]})


@router.get("/tasks/{task_id}", summary="One task: its warning, history, feedback and your actions 任务详情")
def task_detail(
    task_id: int, request: Request, user: CurrentUser = Depends(require("tasks.read"))
) -> JSONResponse:
    """Outside your region: 404, as a missing one. Audited as a read of the person's case."""
    with request.app.state.engine.begin() as conn:
        try:
            out = views.task_detail(conn, user=user, task_id=task_id, now=now(request))
        except NotFoundError:
            raise errors.out_of_region() from None
        # where to go: the household's address, phone and members (masked) with the task
        out["household"] = visit.household_block(conn, out["household_id"], now(request).date())
        audit_record(
            None,
            conn=conn,
            actor=user,
            action="read",
            object_type="task",
            object_id=str(task_id),
            fields=list(TASK_FIELDS),
            purpose="task detail",
        )
    out["warning"]["link"] = f"/warnings/{out['warning_id']}" if user.can("warnings.read") else None
    # the household page is addressed by the register's number, which lists show masked
    registered = out.pop("registered_household_no")
    out["household_link"] = (
        f"/households/{quote(registered, safe='')}" if registered and user.can("registry.read") else None
    )
    _with_rule_names([out])
    return JSONResponse(out)


@router.post(
    "/tasks/{task_id}/visit-contact",
    summary="A field check's household phone and names, for the visit 查看联系方式",
)
def visit_contact(
    task_id: int,
    request: Request,
    purpose: str | None = Body(None, embed=True, description="why, e.g. 入户核查"),
    user: CurrentUser = Depends(require("tasks.read")),
) -> JSONResponse:
    """For the worker an open field check is assigned to, or the grid worker of its grid: the phone
    and the members' full names, audited as `unmask`. Outside your tasks: 404; a task you may read but
    not visit, or a closed one: 403 (`not_your_visit`, `not_a_field_check`, `task_closed`)."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise _bad("purpose", "state the purpose (at least 2 characters), e.g. 'home visit'",
                   "请填写查看联系方式的事由（至少 2 个字）")
    with request.app.state.engine.begin() as conn:
        try:
            out = visit.visit_contact(conn, user=user, task_id=task_id)
        except NotFoundError:
            raise errors.out_of_region() from None
        except visit.VisitRefused as e:
            raise errors.ApiError(403, e.code, e.message, e.message_zh) from None
        audit_record(
            None,
            conn=conn,
            actor=user,
            action="unmask",
            object_type="task",
            object_id=str(task_id),
            fields=list(visit.VISIT_FIELDS),
            purpose=purpose[:200],
        )
    return JSONResponse(out)


class ActionBody(BaseModel):
    action: str = Field(description="accept, start, return, close, reassign, escalate")
    note: str | None = Field(None, max_length=2000)
    queue_role: str | None = Field(None, description="reassign to a queue: its role …")
    queue_region: str | None = Field(None, description="… and region (a grid, township, county code)")
    to_user: str | None = Field(None, description="reassign to a named user")


@router.post("/tasks/{task_id}/actions", summary="Take a workflow action on a task 任务操作")
def task_action(
    task_id: int,
    request: Request,
    body: ActionBody = Body(...),
    user: CurrentUser = Depends(require("tasks.work")),
) -> JSONResponse:
    """Who may do what follows the task's queue and state (casework.access): 403 `not_your_task`, 409
    `transition_not_allowed` with the actions allowed now."""
    queue = None
    if body.queue_role or body.queue_region:
        if not (body.queue_role and body.queue_region):
            raise _bad(
                "queue_region",
                "a queue needs both queue_role and queue_region",
                "改派队列须同时指定角色和区域",
            )
        _scoped_region(body.queue_region)
        queue = Queue(body.queue_role, body.queue_region, None)
    try:
        moved = service.act(
            request.app.state.engine,
            task_id=task_id,
            action=body.action,
            user=user,
            note=body.note,
            to_queue=queue,
            to_user=body.to_user,
            now=now(request),
        )
    except NotFoundError:
        raise errors.out_of_region() from None
    try:
        return task_detail(task_id, request, user)
    except errors.ApiError as e:
        if e.status != 404:
            raise
        # the action took the task out of the user's sight (a grid worker handing it back): say where it went
        return JSONResponse(moved | {"visible": False})


@router.post("/tasks/{task_id}/feedback", summary="Give a task's feedback (form, optional file) 提交反馈")
async def task_feedback(
    task_id: int,
    request: Request,
    outcome: str | None = Form(None, description="checked against the task's form"),
    notes: str | None = Form(None),
    refusal_reason: str | None = Form(None),
    assistance_kind: str | None = Form(None),
    amount_fen: int | None = Form(None, ge=0),
    given_on: dt.date | None = Form(None),
    person_id: int | None = Form(None),
    file: UploadFile | None = File(None),
    user: CurrentUser = Depends(require("tasks.work")),
) -> JSONResponse:
    """Field check: outcome confirmed_need | no_need | wrong_data | not_found (the last three need notes).
    Department: assisted (assistance_kind, given_on, amount_fen for money) or refused (refusal_reason).
    A photo or PDF up to 10 MB may be attached."""
    attachment = None
    if file is not None and file.filename:
        data = await file.read(feedback.MAX_ATTACHMENT_BYTES + 1)
        attachment = feedback.Attachment(file.filename, file.content_type or "", data)
    assistance = None
    if assistance_kind:
        if given_on is None:
            raise _bad(
                "given_on", "assistance needs the date it was given (given_on, YYYY-MM-DD)", "请填写帮扶日期"
            )
        assistance = feedback.Assistance(
            kind=assistance_kind, given_on=given_on, amount_fen=amount_fen, person_id=person_id
        )
    try:
        feedback.give(
            request.app.state.engine,
            task_id=task_id,
            user=user,
            outcome=outcome,
            notes=notes,
            refusal_reason=refusal_reason,
            assistance=assistance,
            attachment=attachment,
            now=now(request),
        )
    except NotFoundError:
        raise errors.out_of_region() from None
    return task_detail(task_id, request, user)


@router.get(
    "/tasks/{task_id}/feedback/{feedback_id}/attachment", summary="A feedback's file (audited) 反馈附件"
)
def feedback_attachment(
    task_id: int, feedback_id: int, request: Request, user: CurrentUser = Depends(require("tasks.read"))
) -> FileResponse:
    with request.app.state.engine.begin() as conn:
        try:
            row = views.feedback_attachment(conn, user=user, task_id=task_id, feedback_id=feedback_id)
        except NotFoundError:
            raise errors.out_of_region() from None
        audit_record(
            None,
            conn=conn,
            actor=user,
            action="read",
            object_type="task_feedback",
            object_id=str(feedback_id),
            fields=["attachment"],
            purpose="feedback attachment",
        )
    path = feedback.attachment_path(row.attachment_sha256, row.attachment_type)
    if not path.exists():
        raise NotFoundError("the attachment's file is missing from the data folder")
    return FileResponse(path, media_type=row.attachment_type, filename=row.attachment_name)


# --- the household's chain -------------------------------------------------------------------------


def _household(request: Request, user: CurrentUser, household_no: str) -> int:
    with request.app.state.engine.connect() as conn:
        row = search.scoped_household(conn, household_no, user.region_code)
    if row is None:
        raise errors.out_of_region()
    return row.id


def _chain(request: Request, user: CurrentUser, household_no: str, purpose: str) -> list[dict]:
    household_id = _household(request, user, household_no)
    reader = chain_view.reader_for(request.app.state.engine, user)
    with request.app.state.engine.begin() as conn:
        entries = chain_view.household_chain(conn, household_id=household_id, reader=reader)
        audit_record(
            None,
            conn=conn,
            actor=user,
            action="export" if purpose == "export" else "read",
            object_type="household_chain",
            object_id=household_no,
            fields=reader.fields(),
            purpose=f"assistance chain {purpose}",
        )
    return entries


@router.get("/households/{household_no}/chain", summary="One household, one assistance chain 救助帮扶链")
def household_chain(
    household_no: str, request: Request, user: CurrentUser = Depends(require("registry.read"))
) -> JSONResponse:
    """Tier changes, warnings, tasks and their steps, feedback and assistance (civil affairs, departments,
    charities), oldest first. Audited."""
    return JSONResponse(
        {"household_no": household_no, "entries": _chain(request, user, household_no, "view")}
    )


@router.get("/households/{household_no}/chain.xlsx", summary="The assistance chain as Excel 导出救助帮扶链")
def household_chain_xlsx(
    household_no: str,
    request: Request,
    lang: str = Query("zh", pattern="^(zh|en)$"),
    user: CurrentUser = Depends(require("registry.read")),
) -> Response:
    entries = _chain(request, user, household_no, "export")
    data = chain_view.chain_workbook(entries, household_no=household_no, lang=lang)
    name = quote(f"救助帮扶链-{household_no}.xlsx")
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


class AssistanceBody(BaseModel):
    household_no: str = Field(max_length=64)
    kind: str = Field(description="see /tasks/forms assistance_kinds")
    given_on: dt.date
    amount_fen: int | None = Field(
        None, ge=0, description="money in fen (1 yuan = 100 fen); none for services"
    )
    person_id: int | None = None
    notes: str | None = Field(None, max_length=2000)
    source: str | None = Field(
        None, max_length=64, description="a charity: its name (default: your display name)"
    )


@router.post("/assistance", status_code=201, summary="Record assistance given 登记救助帮扶")
def add_assistance(
    request: Request, body: AssistanceBody, user: CurrentUser = Depends(require("assistance.record"))
) -> JSONResponse:
    """Civil affairs (township staff, administrators), a department's liaison or a charity records an
    assistance given to a household in their region; it joins the household's chain. 409 when already
    recorded."""
    try:
        new_id = feedback.add_assistance(
            request.app.state.engine,
            user=user,
            household_no=body.household_no,
            assistance=feedback.Assistance(
                kind=body.kind,
                given_on=body.given_on,
                amount_fen=body.amount_fen,
                person_id=body.person_id,
                notes=body.notes,
            ),
            source=body.source,
            now=now(request),
        )
    except NotFoundError:
        raise errors.out_of_region() from None
    return JSONResponse({"assistance_id": new_id}, status_code=201)


# --- notifications ---------------------------------------------------------------------------------


@router.get("/notifications", summary="Your notifications, newest first 消息通知")
def list_notifications(
    request: Request, unread: bool = Query(False), page: int = _PAGE, page_size: int = _PAGE_SIZE
) -> JSONResponse:
    user = current_user(request)
    n = notifications
    conds = [n.c.username == user.username] + ([n.c.read_at.is_(None)] if unread else [])
    with search.reading(request.app.state.engine) as conn:
        total = conn.execute(select(func.count()).select_from(n).where(*conds)).scalar_one()
        unread_count = conn.execute(
            select(func.count()).select_from(n).where(n.c.username == user.username, n.c.read_at.is_(None))
        ).scalar_one()
        rows = conn.execute(
            select(n).where(*conds).order_by(n.c.id.desc()).limit(page_size).offset((page - 1) * page_size)
        ).all()
    return JSONResponse(
        {
            "items": [
                {
                    "notification_id": r.id,
                    "kind": r.kind,
                    "task_id": r.task_id,
                    "title_zh": r.title_zh,
                    "title_en": r.title_en,
                    "link": r.link,
                    "created_at": views._iso(r.created_at),
                    "read_at": views._iso(r.read_at),
                }
                for r in rows
            ],
            "total": total,
            "unread": unread_count,
            "page": page,
            "page_size": page_size,
        }
    )


@router.post("/notifications/read", summary="Mark notifications read (ids, or all) 标记已读")
def read_notifications(request: Request, ids: list[int] | None = Body(None, embed=True)) -> JSONResponse:
    user = current_user(request)
    n = notifications
    with request.app.state.engine.begin() as conn:
        query = update(n).where(n.c.username == user.username, n.c.read_at.is_(None))
        if ids is not None:
            query = query.where(n.c.id.in_(ids))
        done = conn.execute(query.values(read_at=now(request))).rowcount
    return JSONResponse({"marked": done})


# --- routing table ---------------------------------------------------------------------------------


@router.get("/routing", summary="The routing table in force and its history 分类推送规则")
def routing(request: Request, user: CurrentUser = Depends(require("tasks.read"))) -> JSONResponse:
    today = now(request).date()
    with search.reading(request.app.state.engine) as conn:
        return JSONResponse(
            {
                "in_force": service.routing_in_force(conn, on=today),
                "history": service.routing_history(conn),
                "needs": NEEDS,
                "departments": list(ROUTING_DEPARTMENTS),
                "levels": list(ROUTING_LEVELS),
            }
        )


class RoutingBody(BaseModel):
    department: str
    level: str
    valid_from: dt.date
    source: str = Field(min_length=1, max_length=1000, description="the notice or decision it follows")
    note: str | None = Field(None, max_length=1000)


@router.put(
    "/routing/{need}", summary="Change where a need is pushed (from a date; history kept) 修改推送规则"
)
def set_routing(
    need: str, request: Request, body: RoutingBody, user: CurrentUser = Depends(require("routing.admin"))
) -> JSONResponse:
    try:
        return JSONResponse(
            service.set_routing(
                request.app.state.engine,
                need=need,
                department=body.department,
                level=body.level,
                valid_from=body.valid_from,
                source=body.source,
                note=body.note,
                actor=user,
                at=now(request),
            )
        )
    except PolicyError as e:
        raise _bad("routing", str(e), f"推送规则有误：{e}") from None


# --- dispatch and sweep (data officers) -----------------------------------------------------------


@router.post("/tasks/dispatch", summary="Turn a month's new warnings into tasks 分类推送")
def dispatch(
    request: Request,
    month: str = Body(..., embed=True),
    user: CurrentUser = Depends(require("tasks.dispatch")),
) -> JSONResponse:
    try:
        check_month(month)
    except WarningInputError as e:
        raise _bad("month", str(e), "月份格式应为 YYYY-MM") from None
    return JSONResponse(service.dispatch_month(request.app.state.engine, month=month, now=now(request)))


@router.post("/tasks/sweep", summary="Escalate overdue tasks 逾期升级")
def sweep(request: Request, user: CurrentUser = Depends(require("tasks.dispatch"))) -> JSONResponse:
    return JSONResponse(service.sweep_overdue(request.app.state.engine, now=now(request)))
