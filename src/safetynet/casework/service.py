"""Use cases of the closed loop: the routing table, dispatching a month's warnings as tasks (classified
push), moving a task through its workflow, and the sweep that escalates overdue tasks. One
transaction each; every change is a row of the task's history and of the audit trail.

Deadlines count working days of the calendar held in the store (`workdays`). A year the calendar does
not know yet does not stop the loop: Monday to Friday stand in and the deadline is marked provisional
(an administrator adds the year, `safetynet calendar add-year`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, and_, case, func, insert, literal, null, select, text, update

from safetynet.audit.service import record as audit_record
from safetynet.auth.errors import ApiError
from safetynet.auth.model import CurrentUser, Role
from safetynet.auth.store import users
from safetynet.casework import notify
from safetynet.casework.access import grid_sees, may, next_queue, queue_level, region_at, works_for
from safetynet.casework.model import (
    STATE_TIMESTAMP,
    Action,
    Queue,
    Status,
    TaskType,
    TransitionError,
    next_status,
)
from safetynet.casework.policy import CIVIL_AFFAIRS, Policy, PolicyError, check_routing, load_policy
from safetynet.casework.store import routing_rules, task_events, tasks
from safetynet.db import bulk_insert, lock_for_import
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.monitoring.store import warning_firings, warnings
from safetynet.monitoring.warnings import check_month
from safetynet.registry.store import households
from safetynet.workdays import model as workdays_model
from safetynet.workdays import service as workdays
from safetynet.workdays.model import as_utc

SYSTEM = "system"


class TaskActionError(ApiError):
    """An action the user may not take, one the task's state does not allow, or a bad form: the API's
    error body as it stands (status, code, message in English and Chinese, field)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- routing table -------------------------------------------------------------------------------


def seed_routing(conn: Connection, *, policy: Policy | None = None, at: dt.datetime | None = None) -> int:
    """Fill an empty routing table from policy.yaml (a table already holding rules is left alone)."""
    if conn.execute(select(func.count()).select_from(routing_rules)).scalar_one():
        return 0
    policy = policy or load_policy()
    at = at or _now()
    rows = [
        {
            "need": need,
            "department": dep,
            "level": level,
            "valid_from": policy.routing_valid_from,
            "valid_to": None,
            "source": policy.routing_source,
            "note": "seeded from policy.yaml",
            "changed_by": SYSTEM,
            "changed_at": at,
        }
        for need, (dep, level) in policy.routing.items()
    ]
    conn.execute(insert(routing_rules), rows)
    return len(rows)


def _rule_dict(r) -> dict:  # noqa: ANN001
    return {
        "id": r.id,
        "need": r.need,
        "department": r.department,
        "level": r.level,
        "valid_from": r.valid_from.isoformat(),
        "valid_to": r.valid_to.isoformat() if r.valid_to else None,
        "source": r.source,
        "note": r.note,
        "changed_by": r.changed_by,
        "changed_at": r.changed_at.isoformat() if r.changed_at else None,
    }


def routing_in_force(conn: Connection, *, on: dt.date) -> dict[str, dict]:
    """need → the routing rule in force on `on`."""
    rows = conn.execute(
        select(routing_rules)
        .where(
            routing_rules.c.valid_from <= on,
            (routing_rules.c.valid_to.is_(None)) | (routing_rules.c.valid_to >= on),
        )
        .order_by(routing_rules.c.valid_from, routing_rules.c.id)
    ).all()
    return {r.need: _rule_dict(r) for r in rows}


def routing_history(conn: Connection, *, need: str | None = None) -> list[dict]:
    query = select(routing_rules).order_by(
        routing_rules.c.need, routing_rules.c.valid_from.desc(), routing_rules.c.id.desc()
    )
    if need:
        query = query.where(routing_rules.c.need == need)
    return [_rule_dict(r) for r in conn.execute(query)]


def department_needs(engine: Engine, department: str | None, *, on: dt.date | None = None) -> tuple[str, ...]:
    """The warning needs the routing table in force pushes to `department` (what its liaisons read)."""
    if not department:
        return ()
    with engine.connect() as conn:
        rules = routing_in_force(conn, on=on or dt.date.today())
    return tuple(sorted(need for need, r in rules.items() if r["department"] == department))


def set_routing(
    engine: Engine,
    *,
    need: str,
    department: str,
    level: str,
    valid_from: dt.date,
    source: str,
    actor: CurrentUser | str,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """A new routing rule for `need` from `valid_from`; the rule it replaces ends the day before (history
    is kept: tasks name the rule they were routed by). A rule may not start before the current one."""
    check_routing(need, department, level)
    if not (source or "").strip():
        raise PolicyError("a routing change needs its source (the notice or decision it follows)")
    at = at or _now()
    with engine.begin() as conn:
        current = conn.execute(
            select(routing_rules).where(routing_rules.c.need == need, routing_rules.c.valid_to.is_(None))
        ).first()
        if current is not None:
            if valid_from <= current.valid_from:
                raise PolicyError(
                    f"valid_from must be after {current.valid_from} (the current rule's start) "
                    f"for need {need!r}, got {valid_from}"
                )
            conn.execute(
                update(routing_rules)
                .where(routing_rules.c.id == current.id)
                .values(valid_to=valid_from - dt.timedelta(days=1))
            )
        new_id = conn.execute(
            insert(routing_rules)
            .values(
                need=need,
                department=department,
                level=level,
                valid_from=valid_from,
                valid_to=None,
                source=source.strip(),
                note=note,
                changed_by=getattr(actor, "username", actor),
                changed_at=at,
            )
            .returning(routing_rules.c.id)
        ).scalar_one()
        audit_record(
            None,
            conn=conn,
            actor=actor,
            action="write",
            object_type="routing_rule",
            object_id=str(new_id),
            fields=["need", "department", "level", "valid_from"],
            detail=f"routing {need} → {department}/{level}",
            at=at,
        )
        return _rule_dict(conn.execute(select(routing_rules).where(routing_rules.c.id == new_id)).one())


# --- deadlines -----------------------------------------------------------------------------------


def _weekday_deadline(start: dt.datetime, n: int) -> dt.datetime:
    """The calendar's own count with no year's exceptions known: Monday to Friday."""
    day = workdays_model.add_working_days(workdays_model.local_date(start), n, lambda _year: {})
    return workdays_model.end_of_day(day)


def deadline(
    conn: Connection,
    *,
    task_type: str,
    need: str | None,
    level: str,
    escalated: bool,
    start: dt.datetime,
    policy: Policy | None = None,
) -> tuple[dt.datetime, bool]:
    """(deadline, provisional) of a task entering its queue at `start`; `level` is the warning's
    (blue … red)."""
    policy = policy or load_policy()
    rule = policy.deadline_rule(
        task_type=task_type, need=need, level=level, escalated=escalated, on=workdays_model.local_date(start)
    )
    # stored in UTC: SQLite keeps a timestamp's digits and drops its zone
    if rule.hours is not None:
        return (start + dt.timedelta(hours=rule.hours)).astimezone(dt.UTC), False
    try:
        return workdays.deadline(conn, start, working_days=rule.working_days).astimezone(dt.UTC), False
    except workdays_model.CalendarGapError:
        return _weekday_deadline(start, rule.working_days).astimezone(dt.UTC), True


# --- dispatch: every warning becomes its tasks ---------------------------------------------------


def _grids_with_workers(conn: Connection, grids: Iterable[str]) -> set[str]:
    grids = sorted({g for g in grids if g})
    out: set[str] = set()
    for i in range(0, len(grids), 500):
        out.update(
            conn.execute(
                select(users.c.region_code).where(
                    users.c.role == Role.grid_worker.value,
                    users.c.active.is_(True),
                    users.c.region_code.in_(grids[i : i + 500]),
                )
            ).scalars()
        )
    return out


def field_queue(region_code: str, grid_code: str | None, staffed_grids: set[str], policy: Policy) -> Queue:
    """The grid's worker when the grid has one; else the fallback level's queue (policy.yaml)."""
    if grid_code and grid_code in staffed_grids:
        return Queue(Role.grid_worker.value, grid_code)
    level = policy.grid_without_worker
    role = Role.township_caseworker if level == "township" else Role.county_admin
    return Queue(role.value, region_at(region_code, level))


def dispatch_month(
    engine: Engine, *, month: str, now: dt.datetime | None = None, policy: Policy | None = None
) -> dict:
    """Classified push: every new warning that fired in `month` and has no task yet becomes a field check
    (grid or township) and, when its need belongs to a department, a push to that department. The
    warning turns `dispatched`. Re-running creates nothing new. Returns counts."""
    check_month(month)
    now = now or _now()
    policy = policy or load_policy()
    with notify.sent_after_commit(), engine.begin() as conn:
        lock_for_import(conn, "tasks")  # two dispatches at once would both take the same warnings
        seed_routing(conn, policy=policy, at=now)
        routing = routing_in_force(conn, on=workdays_model.local_date(now))
        has_task = select(tasks.c.id).where(tasks.c.warning_id == warnings.c.id).exists()
        rows = conn.execute(
            select(
                warnings.c.id,
                warnings.c.need,
                warnings.c.level,
                warnings.c.region_code,
                warnings.c.household_id,
                warnings.c.person_id,
                households.c.grid_code,
            )
            .select_from(
                warnings.join(
                    warning_firings,
                    and_(warning_firings.c.warning_id == warnings.c.id, warning_firings.c.month == month),
                ).outerjoin(households, households.c.id == warnings.c.household_id)
            )
            .where(warnings.c.status == "new", ~has_task)
            .order_by(warnings.c.id)
        ).all()
        staffed = _grids_with_workers(conn, (r.grid_code for r in rows))
        deadlines: dict[tuple, tuple[dt.datetime, bool]] = {}

        def due(task_type: str, need: str | None, level: str) -> tuple[dt.datetime, bool]:
            key = (task_type, need, level)
            if key not in deadlines:
                deadlines[key] = deadline(
                    conn,
                    task_type=task_type,
                    need=need,
                    level=level,
                    escalated=False,
                    start=now,
                    policy=policy,
                )
            return deadlines[key]

        new_tasks: list[dict] = []
        for w in rows:
            rule = routing.get(w.need or "")
            base = {
                "warning_id": w.id,
                "need": w.need,
                "household_id": w.household_id,
                "person_id": w.person_id,
                "region_code": w.region_code,
                "grid_code": w.grid_code,
                "routing_rule_id": rule["id"] if rule else None,
                "escalations": 0,
                "created_at": now,
                "updated_at": now,
            }
            q = field_queue(w.region_code, w.grid_code, staffed, policy)
            at, provisional = due(TaskType.field_check.value, w.need, w.level)
            new_tasks.append(
                base
                | {
                    "task_type": TaskType.field_check.value,
                    "department": None,
                    "level": queue_level(q),
                    "status": Status.assigned.value,
                    "queue_role": q.role,
                    "queue_region": q.region,
                    "deadline_at": at,
                    "deadline_provisional": provisional,
                    "assigned_at": now,
                }
            )
            if rule and rule["department"] != CIVIL_AFFAIRS:
                region = region_at(w.region_code, rule["level"])
                at, provisional = due(TaskType.department_push.value, w.need, w.level)
                new_tasks.append(
                    base
                    | {
                        "task_type": TaskType.department_push.value,
                        "department": rule["department"],
                        "level": rule["level"],
                        "status": Status.pushed.value,
                        "queue_role": Role.department_liaison.value,
                        "queue_region": region,
                        "deadline_at": at,
                        "deadline_provisional": provisional,
                        "pushed_at": now,
                    }
                )
        created = _insert_tasks(conn, new_tasks, now=now)
        if rows:
            ids = [w.id for w in rows]
            for i in range(0, len(ids), 1000):
                conn.execute(
                    update(warnings)
                    .where(warnings.c.id.in_(ids[i : i + 1000]))
                    .values(status="dispatched", updated_at=now)
                )
        queues = Counter((t["queue_role"], t["queue_region"], t["department"]) for t in new_tasks)
        notified = notify.new_tasks(conn, queues, month=month, at=now)
        audit_record(
            None,
            conn=conn,
            actor=SYSTEM,
            action="write",
            object_type="tasks",
            object_id=month,
            fields=["status", "queue"],
            detail=f"dispatch {month}: {len(rows)} warnings, {created} tasks",
            at=now,
        )
    by_type = Counter(t["task_type"] for t in new_tasks)
    return {
        "month": month,
        "warnings": len(rows),
        "tasks": created,
        "field_checks": by_type["field_check"],
        "department_pushes": by_type["department_push"],
        "provisional_deadlines": sum(t["deadline_provisional"] for t in new_tasks),
        "notifications": notified,
    }


_TASK_COLUMNS = (
    "warning_id",
    "task_type",
    "need",
    "department",
    "level",
    "status",
    "queue_role",
    "queue_region",
    "household_id",
    "person_id",
    "region_code",
    "grid_code",
    "deadline_at",
    "deadline_provisional",
    "escalations",
    "routing_rule_id",
    "created_at",
    "assigned_at",
    "pushed_at",
    "updated_at",
)


def _new_ids(conn: Connection, table, n: int) -> list[int]:  # noqa: ANN001
    """`n` fresh primary keys of `table`, taken so that ordinary inserts running meanwhile (a worker's
    step writes a history row) never collide: PostgreSQL hands them out of the table's sequence; SQLite
    has one writer at a time, and the dispatch's transaction already holds the write lock."""
    if not n:
        return []
    if conn.dialect.name == "postgresql":
        return list(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table.name, "n": n},
            ).scalars()
        )
    start = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + n))


def _insert_tasks(conn: Connection, rows: list[dict], *, now: dt.datetime) -> int:
    """Insert tasks in bulk (COPY on PostgreSQL, one executemany on SQLite: a provincial month is
    ~600,000 tasks), then their first two history rows (created; assigned or pushed) in SQL from the
    rows just written. The caller holds the tasks lock, so the new ids are one unbroken range."""
    task_ids = _new_ids(conn, tasks, len(rows))
    if not task_ids:
        return 0
    for task_id, row in zip(task_ids, rows, strict=True):
        row["id"] = task_id
    columns = ("id", *_TASK_COLUMNS)
    for i in range(0, len(rows), 50_000):
        bulk_insert(conn, tasks, [{c: r.get(c) for c in columns} for r in rows[i : i + 50_000]])
    new = and_(tasks.c.id >= task_ids[0], tasks.c.id <= task_ids[-1])
    columns = ["task_id", "action", "from_status", "to_status", "actor", "at"]
    created = select(
        tasks.c.id, literal("create"), null(), literal(Status.new.value), literal(SYSTEM), tasks.c.created_at
    ).where(new)
    queued = select(
        tasks.c.id,
        case((tasks.c.status == Status.assigned.value, Action.assign.value), else_=Action.push.value),
        literal(Status.new.value),
        tasks.c.status,
        literal(SYSTEM),
        tasks.c.created_at,
    ).where(new)
    conn.execute(insert(task_events).from_select(columns, created))
    conn.execute(insert(task_events).from_select(columns, queued))
    return len(rows)


# --- the workflow --------------------------------------------------------------------------------


def _queue_of(row) -> Queue:  # noqa: ANN001
    return Queue(row.queue_role, row.queue_region, row.department)


def load_task(conn: Connection, task_id: int, *, for_update: bool = False):  # noqa: ANN201
    query = select(tasks).where(tasks.c.id == task_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"task {task_id} not found")
    return row


def task_in_scope(user: CurrentUser, row) -> bool:  # noqa: ANN001
    """The task's household lies in the user's region (a grid worker: in their grid)."""
    if len(user.region_code) == 14:
        return grid_sees(user, grid_code=row.grid_code, queue_region=row.queue_region, assignee=row.assignee)
    return user.in_scope(row.region_code)


def _check_may(user: CurrentUser, action: Action, row) -> Status:  # noqa: ANN001
    """The state the action leads to, after checking the user may take it on this task."""
    status = Status(row.status)
    try:
        to = next_status(action, status)
    except TransitionError as e:
        raise TaskActionError(409, "transition_not_allowed", str(e), e.message_zh, "action") from None
    if not may(
        user, action, status=status, queue=_queue_of(row), assignee=row.assignee, task_region=row.region_code
    ):
        raise TaskActionError(
            403,
            "not_your_task",
            f"you may not {action.value} this task (it waits in the {row.queue_role} queue of "
            f"{row.queue_region}; assignee {row.assignee or 'none'})",
            "您不是该任务的承办人或管理人，不能执行此操作",
            "action",
        )
    return to


def transition(
    conn: Connection,
    row,
    *,
    action: Action,
    to: Status,
    actor: CurrentUser | str,  # noqa: ANN001
    now: dt.datetime,
    note: str | None = None,
    values: dict | None = None,
    detail: dict | None = None,
) -> None:
    """Apply one checked transition: state, its timestamp, extra column values, one history row."""
    changes = {"status": to.value, STATE_TIMESTAMP[to]: now, "updated_at": now, **(values or {})}
    if to is Status.accepted and row.first_action_at is None:
        changes["first_action_at"] = now
    done = conn.execute(
        update(tasks).where(tasks.c.id == row.id, tasks.c.status == row.status).values(**changes)
    ).rowcount
    if done != 1:  # someone else moved it in between
        raise TaskActionError(
            409,
            "task_changed",
            "the task was changed by someone else meanwhile; reload it",
            "任务已被他人处理，请刷新后重试",
        )
    conn.execute(
        insert(task_events).values(
            task_id=row.id,
            action=action.value,
            from_status=row.status,
            to_status=to.value,
            actor=getattr(actor, "username", actor),
            actor_role=getattr(actor, "role", None),
            at=now,
            note=note,
            detail=detail,
        )
    )
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="task",
        object_id=str(row.id),
        fields=["status", *sorted(values or {})],
        detail=f"{action.value}: {row.status} → {to.value}",
        at=now,
    )
    if to is Status.closed:
        _close_warning_when_done(conn, row.warning_id, now)


def _close_warning_when_done(conn: Connection, warning_id: int, now: dt.datetime) -> None:
    open_left = conn.execute(
        select(func.count())
        .select_from(tasks)
        .where(tasks.c.warning_id == warning_id, tasks.c.status != Status.closed.value)
    ).scalar_one()
    if not open_left:
        conn.execute(
            update(warnings).where(warnings.c.id == warning_id).values(status="closed", updated_at=now)
        )


def act(
    engine: Engine,
    *,
    task_id: int,
    action: str,
    user: CurrentUser,
    note: str | None = None,
    to_queue: Queue | None = None,
    to_user: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Take a workflow action on a task as `user`: accept, start, return, close, reassign, escalate
    (feedback has its own use case, `feedback.give`); returns the task's new state, queue and assignee.
    Reassign names a queue (`to_queue`) or a user
    (`to_user`) in the task's region."""
    try:
        act_ = Action(action)
    except ValueError:
        raise TaskActionError(
            422,
            "invalid",
            f"action must be one of accept, start, return, close, reassign, escalate; got {action!r}",
            "操作无效",
            "action",
        ) from None
    if act_ in (Action.assign, Action.push, Action.feedback):
        raise TaskActionError(
            422, "invalid", f"{act_.value} is not taken through this endpoint", "该操作不能在此执行", "action"
        )
    now = now or _now()
    with notify.sent_after_commit(), engine.begin() as conn:
        row = load_task(conn, task_id, for_update=True)
        if not task_in_scope(user, row):
            raise NotFoundError(f"task {task_id} not found")
        to = _check_may(user, act_, row)
        values: dict = {}
        detail: dict | None = None
        if act_ is Action.accept:
            values["assignee"] = user.username
        elif act_ is Action.give_back:
            if not (note or "").strip():
                raise TaskActionError(
                    422, "invalid", "returning a task needs a reason (note)", "退回须填写原因", "note"
                )
            if row.status != Status.feedback_given.value:
                # the worker hands back a task that is not theirs: it goes to the township, which
                # reassigns it or acts itself; feedback sent back by the township stays with its worker
                township = region_at(row.region_code, "township")
                values = {
                    "queue_role": Role.township_caseworker.value,
                    "queue_region": township,
                    "level": "township",
                    "assignee": None,
                }
                detail = {
                    "from": {"role": row.queue_role, "region": row.queue_region, "assignee": row.assignee},
                    "to": {"role": Role.township_caseworker.value, "region": township},
                }
        elif act_ is Action.reassign:
            values, detail = _reassignment(conn, row, user=user, to_queue=to_queue, to_user=to_user, now=now)
        elif act_ is Action.escalate:
            values, detail = _escalation(conn, row, now=now)
        transition(
            conn, row, action=act_, to=to, actor=user, now=now, note=note, values=values, detail=detail
        )
        notify.after_transition(conn, row, action=act_, to=to, actor=user.username, values=values, at=now)
    return {
        "task_id": task_id,
        "status": to.value,
        "queue_role": values.get("queue_role", row.queue_role),
        "queue_region": values.get("queue_region", row.queue_region),
        "assignee": values.get("assignee", row.assignee),
    }


def _reassignment(
    conn: Connection,
    row,
    *,
    user: CurrentUser,
    to_queue: Queue | None,  # noqa: ANN001
    to_user: str | None,
    now: dt.datetime,
) -> tuple[dict, dict]:
    if (to_queue is None) == (to_user is None):
        raise TaskActionError(
            422,
            "invalid",
            "reassign needs either a queue (role and region) or a user",
            "改派须指定承办队列或承办人",
            "to",
        )
    if to_user is not None:
        target = conn.execute(
            select(users.c.username, users.c.role, users.c.region_code, users.c.department).where(
                users.c.username == to_user, users.c.active.is_(True)
            )
        ).first()
        if (
            target is None
            or not user.in_scope(target.region_code)
            or not works_for(target.region_code, row.region_code)
        ):
            raise TaskActionError(
                422,
                "invalid",
                f"user {to_user!r} is not an active user in the task's region",
                f"用户 {to_user} 不是任务所在区域的有效用户",
                "to_user",
            )
        queue = Queue(target.role, target.region_code, target.department or row.department)
        values = {"assignee": target.username}
    else:
        queue = to_queue
        if not user.in_scope(queue.region) or not works_for(queue.region, row.region_code):
            raise TaskActionError(
                422,
                "invalid",
                f"queue region {queue.region} must contain the task's region and lie in yours",
                "改派区域须包含任务所在区域且在您的管辖范围内",
                "queue_region",
            )
        values = {"assignee": None}
    start = now
    due, provisional = deadline(
        conn,
        task_type=row.task_type,
        need=row.need,
        level=_warning_level(conn, row),
        escalated=bool(row.escalations),
        start=start,
    )
    values |= {
        "queue_role": queue.role,
        "queue_region": queue.region,
        "department": queue.department,
        "level": queue_level(queue),
        "deadline_at": due,
        "deadline_provisional": provisional,
    }
    return values, {
        "from": {"role": row.queue_role, "region": row.queue_region, "assignee": row.assignee},
        "to": {"role": queue.role, "region": queue.region, "assignee": values.get("assignee")},
    }


def _escalation(conn: Connection, row, *, now: dt.datetime) -> tuple[dict, dict]:  # noqa: ANN001
    queue = next_queue(_queue_of(row), row.task_type) or _queue_of(row)
    due, provisional = deadline(
        conn,
        task_type=row.task_type,
        need=row.need,
        level=_warning_level(conn, row),
        escalated=True,
        start=now,
    )
    values = {
        "queue_role": queue.role,
        "queue_region": queue.region,
        "level": queue_level(queue),
        "assignee": None,
        "escalations": row.escalations + 1,
        "deadline_at": due,
        "deadline_provisional": provisional,
    }
    return values, {
        "from": {"role": row.queue_role, "region": row.queue_region, "assignee": row.assignee},
        "to": {"role": queue.role, "region": queue.region},
        "overdue_since": _iso(row.deadline_at),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _queue_entered_at(row) -> dt.datetime:  # noqa: ANN001
    """When the task entered its current queue: its deadline counts from there."""
    return max(as_utc(t) for t in (row.assigned_at, row.pushed_at, row.escalated_at, row.created_at) if t)


def recompute_provisional(engine: Engine) -> int:
    """Deadlines counted Monday to Friday because the calendar lacked a year, counted again now that an
    administrator may have added it (those still unknown stay provisional)."""
    done = 0
    with engine.begin() as conn:
        for row in conn.execute(
            select(tasks, warnings.c.level.label("warning_level"))
            .join(warnings, warnings.c.id == tasks.c.warning_id)
            .where(tasks.c.deadline_provisional.is_(True), tasks.c.status != Status.closed.value)
        ).all():
            due, provisional = deadline(
                conn,
                task_type=row.task_type,
                need=row.need,
                level=row.warning_level,
                escalated=bool(row.escalations),
                start=_queue_entered_at(row),
            )
            if not provisional:
                conn.execute(
                    update(tasks)
                    .where(tasks.c.id == row.id)
                    .values(deadline_at=due, deadline_provisional=False)
                )
                done += 1
    return done


def _warning_level(conn: Connection, row) -> str:  # noqa: ANN001
    return conn.execute(select(warnings.c.level).where(warnings.c.id == row.warning_id)).scalar_one()


def sweep_overdue(engine: Engine, *, now: dt.datetime | None = None, limit: int | None = None) -> dict:
    """Escalate every open task past its deadline to the next level (a new, shorter deadline there),
    after counting provisional deadlines again. Each escalation in its own transaction: one that fails
    is counted and left for the next sweep."""
    now = now or _now()
    recomputed = recompute_provisional(engine)
    with engine.connect() as conn:
        due = (
            conn.execute(
                select(tasks.c.id)
                .where(
                    tasks.c.status.in_(
                        [
                            s.value
                            for s in (
                                Status.assigned,
                                Status.pushed,
                                Status.accepted,
                                Status.verifying,
                                Status.returned,
                            )
                        ]
                    ),
                    tasks.c.deadline_at < now,
                )
                .order_by(tasks.c.deadline_at, tasks.c.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    escalated, errors = 0, []
    for task_id in due:
        try:
            with notify.sent_after_commit(), engine.begin() as conn:
                row = load_task(conn, task_id, for_update=True)
                if as_utc(row.deadline_at) >= now:  # acted on or reassigned since the list was read
                    continue
                values, detail = _escalation(conn, row, now=now)
                transition(
                    conn,
                    row,
                    action=Action.escalate,
                    to=Status.escalated,
                    actor=SYSTEM,
                    now=now,
                    note="overdue",
                    values=values,
                    detail=detail,
                )
                notify.after_transition(
                    conn,
                    row,
                    action=Action.escalate,
                    to=Status.escalated,
                    actor=SYSTEM,
                    values=values,
                    at=now,
                )
            escalated += 1
        except SafetynetError as e:  # isolate: the rest of the sweep goes on
            errors.append(f"task {task_id}: {e}")
    return {
        "checked": len(due),
        "escalated": escalated,
        "failed": len(errors),
        "errors": errors,
        "recomputed": recomputed,
    }
