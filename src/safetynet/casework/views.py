"""Read side of the closed loop for the screens: a user's task inbox and its counts, one task with its
warning, history and feedback, and the closed-loop figures of a region. Every query is scoped in SQL
to the reader's region (a grid worker: their grid) and, for a department liaison, to their
department's tasks. Names and identity numbers are masked here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, and_, case, false, func, or_, select

from safetynet import identity
from safetynet.auth.model import CurrentUser, Role
from safetynet.casework.access import in_queue, may, queue_roles
from safetynet.casework.model import (
    ACTION_LABELS,
    DEADLINE_RUNS,
    OPEN,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Action,
    Queue,
    Status,
    allowed_actions,
)
from safetynet.casework.store import assistance_records, task_events, task_feedback, tasks
from safetynet.errors import NotFoundError
from safetynet.monitoring.store import warnings
from safetynet.regions.store import regions
from safetynet.registry import search
from safetynet.registry.store import households, persons
from safetynet.workdays.model import as_utc

MAX_PAGE_SIZE = 200
_t = tasks
_OPEN = [s.value for s in OPEN]
_RUNNING = [s.value for s in DEADLINE_RUNS]


def scope_conditions(user: CurrentUser, region: str | None = None) -> list:
    """The tasks `user` may read, narrowed to `region` (NotFoundError when outside theirs)."""
    within = search.narrower(user.region_code, region)
    if within is None:
        raise NotFoundError(f"region {region} not found")
    if len(within) == 14:  # a grid worker: their grid's tasks and those the township sent them
        conds = [or_(_t.c.grid_code == within, _t.c.queue_region == within, _t.c.assignee == user.username)]
    else:
        conds = [search.region_condition(within, region_col=_t.c.region_code, grid_col=_t.c.grid_code)]
    if user.role == Role.department_liaison.value:
        conds.append(
            and_(_t.c.task_type == "department_push", _t.c.department == user.department)
            if user.department
            else false()
        )
    return conds


def mine_condition(user: CurrentUser):  # noqa: ANN201
    """Tasks waiting in a queue the user works, or accepted by them."""
    queue = and_(
        _t.c.queue_role.in_(sorted(queue_roles(user))),
        search.region_condition(user.region_code, region_col=_t.c.queue_region, grid_col=_t.c.queue_region),
    )
    if user.role == Role.department_liaison.value:
        queue = and_(queue, _t.c.department == user.department)
    return or_(_t.c.assignee == user.username, and_(queue, _t.c.assignee.is_(None)))


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    # SQLite drops the zone; stored in UTC
    return (as_utc(value) if isinstance(value, dt.datetime) else value).isoformat()


def _labels(kind: dict, value: str | None) -> dict | None:
    return kind.get(value) if value else None


def _item(row, now: dt.datetime) -> dict:  # noqa: ANN001
    deadline = as_utc(row.deadline_at) if row.deadline_at is not None else None
    return {
        "task_id": row.id,
        "warning_id": row.warning_id,
        "task_type": row.task_type,
        "task_type_label": TYPE_LABELS.get(row.task_type),
        "status": row.status,
        "status_label": STATUS_LABELS.get(Status(row.status)),
        "need": row.need,
        "department": row.department,
        "level": row.level,
        "queue_role": row.queue_role,
        "queue_region": row.queue_region,
        "queue_region_name": row.queue_region_name,
        "assignee": row.assignee,
        "region_code": row.region_code,
        "household_id": row.household_id,
        "household_no": identity.mask_household_no(row.household_no) if row.household_no else None,
        "name": identity.mask_name(row.person_name) if row.person_name else None,
        "warning_rule": row.rule,
        "warning_level": row.warning_level,
        "deadline_at": _iso(deadline),
        "deadline_provisional": bool(row.deadline_provisional),
        "overdue": row.status in _RUNNING and deadline is not None and deadline < now,
        "escalations": row.escalations,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _base_query():  # noqa: ANN202
    name = select(persons.c.name).where(persons.c.id == _t.c.person_id).scalar_subquery()
    # the queue's place by name (a grid, a township, a county …): workers know places, not codes
    queue_region_name = select(regions.c.name).where(regions.c.code == _t.c.queue_region).scalar_subquery()
    return select(
        _t,
        warnings.c.rule,
        warnings.c.level.label("warning_level"),
        households.c.household_no,
        name.label("person_name"),
        queue_region_name.label("queue_region_name"),
    ).select_from(
        _t.join(warnings, warnings.c.id == _t.c.warning_id).outerjoin(
            households, households.c.id == _t.c.household_id
        )
    )


def list_tasks(
    conn: Connection,
    *,
    user: CurrentUser,
    now: dt.datetime,
    mine: bool = False,
    status: str | None = None,
    task_type: str | None = None,
    need: str | None = None,
    overdue: bool = False,
    open_only: bool = False,
    region: str | None = None,
    household_id: int | None = None,
    warning_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict:
    """Overdue first, then by deadline. `mine`: the user's inbox; otherwise every task they may read."""
    conds = scope_conditions(user, region)
    if mine:
        conds.append(mine_condition(user))
    if status:
        conds.append(_t.c.status == status)
    if open_only or overdue:
        conds.append(_t.c.status.in_(_RUNNING if overdue else _OPEN))
    if overdue:
        conds.append(_t.c.deadline_at < now)
    for column, wanted in (
        (_t.c.task_type, task_type),
        (_t.c.need, need),
        (_t.c.household_id, household_id),
        (_t.c.warning_id, warning_id),
    ):
        if wanted is not None and wanted != "":
            conds.append(column == wanted)
    total = conn.execute(select(func.count()).select_from(_t).where(*conds)).scalar_one()
    is_open = case((_t.c.status.in_(_OPEN), 0), else_=1)
    rows = conn.execute(
        _base_query()
        .where(*conds)
        .order_by(is_open, _t.c.deadline_at, _t.c.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return {"items": [_item(r, now) for r in rows], "total": total, "page": page, "page_size": page_size}


def inbox_counts(conn: Connection, *, user: CurrentUser, now: dt.datetime) -> dict:
    """The inbox tiles: my open tasks by state, my overdue ones, and the open tasks in my region."""
    conds = scope_conditions(user)
    mine = and_(*conds, mine_condition(user), _t.c.status.in_(_OPEN))
    by_status = dict(conn.execute(select(_t.c.status, func.count()).where(mine).group_by(_t.c.status)).all())
    overdue = conn.execute(
        select(func.count()).select_from(_t).where(mine, _t.c.status.in_(_RUNNING), _t.c.deadline_at < now)
    ).scalar_one()
    region_open = conn.execute(
        select(func.count()).select_from(_t).where(*conds, _t.c.status.in_(_OPEN))
    ).scalar_one()
    return {
        "mine_open": sum(by_status.values()),
        "mine_by_status": by_status,
        "mine_overdue": overdue,
        "region_open": region_open,
        "status_labels": {s.value: STATUS_LABELS[s] for s in Status},
    }


def task_detail(conn: Connection, *, user: CurrentUser, task_id: int, now: dt.datetime) -> dict:
    row = conn.execute(_base_query().where(_t.c.id == task_id, *scope_conditions(user))).first()
    if row is None:
        raise NotFoundError(f"task {task_id} not found")
    out = _item(row, now)
    out["registered_household_no"] = row.household_no  # for the API's link; never sent as such
    out["warning"] = {"warning_id": row.warning_id, "rule": row.rule, "level": row.warning_level}
    w = conn.execute(
        select(
            warnings.c.value, warnings.c.month, warnings.c.last_month, warnings.c.status, warnings.c.id_number
        ).where(warnings.c.id == row.warning_id)
    ).one()
    out["warning"] |= {
        "value": w.value,
        "raised_month": w.month,
        "last_month": w.last_month,
        "status": w.status,
        "id_number": identity.mask_id_number(w.id_number),
    }
    out["timestamps"] = {
        s.value: _iso(getattr(row, col))
        for s, col in (
            (Status.new, "created_at"),
            (Status.assigned, "assigned_at"),
            (Status.pushed, "pushed_at"),
            (Status.accepted, "accepted_at"),
            (Status.verifying, "verifying_at"),
            (Status.feedback_given, "feedback_at"),
            (Status.closed, "closed_at"),
            (Status.returned, "returned_at"),
            (Status.escalated, "escalated_at"),
        )
    }
    out["history"] = [
        {
            "action": e.action,
            "action_label": ACTION_LABELS.get(Action(e.action))
            if e.action in Action._value2member_map_
            else {"zh": "创建", "en": "Created"},
            "from_status": e.from_status,
            "to_status": e.to_status,
            "actor": e.actor,
            "actor_role": e.actor_role,
            "at": _iso(e.at),
            "note": e.note,
            "detail": e.detail,
        }
        for e in conn.execute(
            select(task_events).where(task_events.c.task_id == task_id).order_by(task_events.c.id)
        )
    ]
    out["feedback"] = [
        {
            "feedback_id": f.id,
            "outcome": f.outcome,
            "outcome_label": OUTCOME_LABELS.get(f.outcome),
            "notes": f.notes,
            "refusal_reason": f.refusal_reason,
            "assistance_id": f.assistance_id,
            "attachment": (
                {
                    "name": f.attachment_name,
                    "type": f.attachment_type,
                    "size": f.attachment_size,
                    "url": f"/api/v1/tasks/{task_id}/feedback/{f.id}/attachment",
                }
                if f.attachment_sha256
                else None
            ),
            "actor": f.actor,
            "at": _iso(f.at),
        }
        for f in conn.execute(
            select(task_feedback).where(task_feedback.c.task_id == task_id).order_by(task_feedback.c.id)
        )
    ]
    status = Status(row.status)
    queue = Queue(row.queue_role, row.queue_region, row.department)
    out["in_my_queue"] = in_queue(user, queue)
    out["allowed_actions"] = [
        a.value
        for a in allowed_actions(status)
        if a not in (Action.assign, Action.push)
        and may(user, a, status=status, queue=queue, assignee=row.assignee, task_region=row.region_code)
        and (a is not Action.feedback or user.can("tasks.work"))
        and (a in (Action.close, Action.reassign, Action.escalate) or user.can("tasks.work"))
    ]
    return out


def feedback_attachment(conn: Connection, *, user: CurrentUser, task_id: int, feedback_id: int):  # noqa: ANN201
    row = conn.execute(
        select(
            task_feedback.c.attachment_name,
            task_feedback.c.attachment_type,
            task_feedback.c.attachment_sha256,
        )
        .select_from(task_feedback.join(_t, _t.c.id == task_feedback.c.task_id))
        .where(task_feedback.c.id == feedback_id, task_feedback.c.task_id == task_id, *scope_conditions(user))
    ).first()
    if row is None or row.attachment_sha256 is None:
        raise NotFoundError(f"attachment of feedback {feedback_id} not found")
    return row


def figures(conn: Connection, *, user: CurrentUser, now: dt.datetime, region: str | None = None) -> dict:
    """Closed-loop figures of the user's region: tasks created, closed, open, overdue, closure rate, median
    hours to first action, and overdue open tasks by township."""
    conds = scope_conditions(user, region)
    row = conn.execute(
        select(
            func.count().label("created"),
            func.count().filter(_t.c.status == Status.closed.value).label("closed"),
            func.count().filter(_t.c.status.in_(_OPEN)).label("open"),
            func.count().filter(_t.c.status.in_(_RUNNING), _t.c.deadline_at < now).label("overdue"),
            func.count().filter(_t.c.escalations > 0).label("escalated"),
            func.count(_t.c.first_action_at).label("acted_on"),
        ).where(*conds)
    ).one()
    median = _median_hours_to_first_action(conn, conds, row.acted_on)
    township = func.substr(_t.c.region_code, 1, 9)
    overdue = conn.execute(
        select(township.label("township"), func.count())
        .where(*conds, _t.c.status.in_(_RUNNING), _t.c.deadline_at < now)
        .group_by(township)
        .order_by(func.count().desc(), township)
        .limit(20)
    ).all()
    names = search_region_names(conn, [t + "000" for t, _ in overdue])
    assistance = conn.execute(
        select(func.count(), func.coalesce(func.sum(assistance_records.c.amount_fen), 0)).where(
            search.region_condition(
                search.narrower(user.region_code, region) or "",
                region_col=assistance_records.c.region_code,
                grid_col=assistance_records.c.region_code,
            )
        )
    ).one()
    return {
        "created": row.created,
        "closed": row.closed,
        "open": row.open,
        "overdue": row.overdue,
        "escalated": row.escalated,
        "closure_rate": round(row.closed / row.created, 3) if row.created else None,
        "median_hours_to_first_action": median,
        "overdue_by_township": [
            {"region_code": t + "000", "name": names.get(t + "000"), "overdue": n} for t, n in overdue
        ],
        "assistance_records": assistance[0],
        "assistance_amount_fen": int(assistance[1]),
    }


def _hours_between(start, end, dialect: str):  # noqa: ANN001, ANN202
    """SQL: the hours from `start` to `end` (timestamps)."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24
    return func.extract("epoch", end - start) / 3600


def _median_hours_to_first_action(conn: Connection, conds: list, acted_on: int) -> float | None:
    """The middle (the upper one of an even count) of the hours from a task's creation to its first
    action, over the `acted_on` tasks that have one: sorted in the database, one row read (a
    province has hundreds of thousands of tasks; the dashboard asks on every load)."""
    if not acted_on:
        return None
    hours = _hours_between(_t.c.created_at, _t.c.first_action_at, conn.dialect.name)
    middle = conn.execute(
        select(hours).where(*conds, _t.c.first_action_at.is_not(None)).order_by(hours)
        .limit(1).offset(acted_on // 2)
    ).scalar_one()
    return round(float(middle), 1)


def search_region_names(conn: Connection, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(conn.execute(select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes))).all())
