"""Use cases of applications and decisions (一门受理 · 审核确认): submit (intake, with a new household
opened in the register), act (the lifecycle's actions: accept, investigate with the verification report
and the rules' assessment attached, notice, approve with the enrolment opened in the register, refuse,
withdraw, aid first, …), and the daily sweep. One write transaction each; every change is a history row
of the application and an audit row (field names, never values).

Slow reads — the register, the verification report from the lake, the rules — are done before the write
transaction opens; the write then checks the application is still in the state they were read for (a
concurrent change answers 409, nothing is half-written).

Deadlines count the working-day calendar held in the store (`workdays`). A year it does not know yet
does not stop intake: Monday to Friday stand in and the dates are marked provisional; the sweep counts
them again once an administrator adds the year."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from safetynet.applications import assessing, model, views
from safetynet.applications.catalogue import Catalogue, NotInForce, load_catalogue
from safetynet.applications.model import Action, ApplicationError, Status
from safetynet.applications.store import application_events, applications
from safetynet.audit.service import record as audit_record
from safetynet.errors import NotFoundError
from safetynet.registry import search
from safetynet.registry import service as registry_service
from safetynet.workdays import model as workdays_model
from safetynet.workdays import service as workdays

SYSTEM = "system"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def platform_actor(region_code: str) -> str:
    """Who a step taken without a signed-in user (the CLI, the sweep) is recorded as: the platform acting
    for the household's township (docs/contracts/applications.md)."""
    return f"platform for township {region_code[:9]}000"


def who(actor: Any, region_code: str) -> tuple[str, str | None, dict | None]:
    """(history name, role, detail) of the actor: a signed-in user by name; the CLI and the sweep as the
    platform acting for the township, naming the operator in the detail."""
    if isinstance(actor, str):
        return platform_actor(region_code), None, {"operator": actor}
    return actor.username, str(actor.role), None


actor_name = assessing.actor_name


def working_day_after(conn: Connection, start: dt.date, n: int) -> tuple[dt.date, bool]:
    """(the n-th working day after `start`, provisional): Monday to Friday stand in for a year the calendar
    does not hold yet (flagged, counted again by the sweep)."""
    try:
        return workdays.working_day_after(conn, start, n), False
    except workdays_model.CalendarGapError:
        return workdays_model.add_working_days(start, n, lambda _year: {}), True


def moment(on: dt.date, now: dt.datetime) -> dt.datetime:
    """When a step dated `on` happened: now when it is dated today; the start of its day (Beijing time)
    when back-dated, so that a clock counted from it (the 24 hours of emergency aid) is never longer than
    the real one."""
    if on == workdays_model.local_date(now):
        return workdays_model.as_utc(now).astimezone(dt.UTC)
    return dt.datetime.combine(on, dt.time(0), workdays_model.PLATFORM_TZ).astimezone(dt.UTC)


# --- the lifecycle --------------------------------------------------------------------------------


def acceptance(conn: Connection, row: Any, *, on: dt.date, now: dt.datetime, catalogue: Catalogue) -> dict:
    """The dates acceptance sets: due_on (the matter's limit in working days), the investigation's start
    (3 working days), and for emergency aid due_at (24 hours after acceptance)."""
    try:
        matter = catalogue.matter(row.matter)
        limit = matter.limit_on(on)
        start = catalogue.process_on("investigation_start_working_days", on)
    except NotInForce as e:
        raise ApplicationError(
            422, "invalid", str(e), "事项目录在该日期没有生效的办理时限", "submitted_on"
        ) from None
    due_on, p1 = working_day_after(conn, on, limit.value)
    investigation_due, p2 = working_day_after(conn, on, start.value)
    values = {
        "limit_working_days": limit.value,
        "limit_source": limit.source,
        "due_on": due_on,
        "investigation_due_on": investigation_due,
        "dates_provisional": p1 or p2,
    }
    if row.aid_first_hours:
        values["due_at"] = moment(on, now) + dt.timedelta(hours=row.aid_first_hours)
    return values


def load(conn: Connection, application_id: int, *, for_update: bool = False) -> Any:
    query = select(applications).where(applications.c.id == application_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"application {application_id} not found; list them with `safetynet applications list`"
        )
    return row


def _in_scope(row: Any, scope: str | None, department: str | None = None) -> bool:
    """The application lies in the reader's region (None: the operator's CLI, everywhere); a department's
    reader sees its department's matters only."""
    if department is not None and row.department != department:
        return False
    return not scope or search.household_in_scope(row.region_code, row.grid_code, scope)


def _last_step(conn: Connection, application_id: int) -> dt.date:
    return conn.execute(
        select(application_events.c.dated_on)
        .where(application_events.c.application_id == application_id)
        .order_by(application_events.c.id.desc())
        .limit(1)
    ).scalar_one()


def transition(
    conn: Connection,
    row: Any,
    action: Action,
    to: Status,
    *,
    on: dt.date,
    actor: Any,
    now: dt.datetime,
    values: dict | None = None,
    note: str | None = None,
    detail: dict | None = None,
) -> None:
    """Apply one checked step: the state, its `*_on` / `*_at`, extra column values, one history row and one
    audit row. A row changed meanwhile (another user's step) answers 409 and nothing is written."""
    changes = {"status": to.value, "updated_at": now, **(values or {})}
    if to.value != row.status:
        on_col, at_col = model.STATE_COLUMNS[to]
        changes |= {on_col: on, at_col: now}
    done = conn.execute(
        update(applications)
        .where(applications.c.id == row.id, applications.c.status == row.status)
        .values(**changes)
    ).rowcount
    if done != 1:
        raise ApplicationError(
            409,
            "application_changed",
            "the application was changed by someone else meanwhile; reload it",
            "申请已被他人处理，请刷新后重试",
        )
    by, role, operator = who(actor, row.region_code)
    conn.execute(
        insert(application_events).values(
            application_id=row.id,
            action=action.value,
            from_status=row.status,
            to_status=to.value,
            dated_on=on,
            at=now,
            actor=by,
            actor_role=role,
            note=note,
            detail={**(operator or {}), **(detail or {})} or None,
        )
    )
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="application",
        object_id=str(row.id),
        fields=sorted({"status", *(values or {})}),
        detail=f"{action.value}: {row.status} → {to.value}",
        at=now,
    )


def act(
    engine: Engine,
    *,
    application_id: int,
    action: str,
    actor: Any,
    scope: str | None = None,
    on: dt.date | None = None,
    reason: str | None = None,
    staff: str | list[str] | None = None,
    amount: object = None,
    now: dt.datetime | None = None,
    lake_dir: Path | None = None,
    catalogue: Catalogue | None = None,
    department: str | None = None,
) -> dict:
    """Take one lifecycle action on an application (in `scope`, the caller's region, when given) dated
    `on` (default today): accept, not_accept, investigate, notice, approve, refuse, withdraw, enrol, aid,
    notify_refusal. An action the lifecycle does not allow now answers TransitionError naming those it
    does. Returns the application as `show` gives it."""
    now = workdays_model.as_utc(now or now_utc()).astimezone(dt.UTC)  # SQLite keeps digits, not zones
    today = workdays_model.local_date(now)
    on = on or today
    with engine.connect() as conn:
        row = load(conn, application_id)
        if not _in_scope(row, scope, department):
            raise NotFoundError(f"application {application_id} not found")
        act_ = model.parse_action(action, Status(row.status), views.allowed(row))
        model.check_action_date(on, last=_last_step(conn, row.id), today=today)
    note = model.parse_reason(act_, reason)
    staff_names = model.parse_staff(staff) if act_ is Action.investigate else None
    aid_fen = model.parse_amount(amount) if act_ is Action.aid else None
    if act_ in (Action.approve, Action.refuse):
        model.check_decision_date(on, row.notice_until)
    checked = None  # (summary, assessment, report) read before the write transaction
    if act_ is Action.investigate or (act_ is Action.approve and row.enrols and not row.assessment):
        checked = assessing.verify_and_assess(
            engine, household_no=row.household_no, on=on, lake_dir=lake_dir, actor=actor
        )
    catalogue = catalogue or load_catalogue()
    with engine.begin() as conn:
        row = load(conn, application_id, for_update=True)
        if act_ not in views.allowed(row):  # moved on since it was read
            raise model.TransitionError(act_.value, Status(row.status), views.allowed(row))
        to = model.TRANSITIONS[act_][Status(row.status)]
        values, detail = _step(
            conn,
            row,
            act_,
            on=on,
            now=now,
            note=note,
            staff=staff_names,
            aid_fen=aid_fen,
            checked=checked,
            actor=actor,
            catalogue=catalogue,
        )
        transition(conn, row, act_, to, on=on, actor=actor, now=now, values=values, note=note, detail=detail)
        if checked is not None:
            assessing.attach(conn, row, checked[2], actor, now)
        return views.show(conn, application_id=application_id, now=now)


def _step(
    conn: Connection,
    row: Any,
    act_: Action,
    *,
    on: dt.date,
    now: dt.datetime,
    note: str | None,
    staff: list[str] | None,
    aid_fen: int | None,
    checked: tuple | None,
    actor: Any,
    catalogue: Catalogue,
) -> tuple[dict, dict | None]:
    """The column values and the history detail of one action (its checks included)."""
    if act_ is Action.accept:
        return acceptance(conn, row, on=on, now=now, catalogue=catalogue), None
    if act_ in (Action.not_accept, Action.withdraw):
        return {"reason": note}, None
    if act_ is Action.investigate:
        names = staff or [platform_actor(row.region_code)]
        summary, assessment, _ = checked
        late = row.investigation_due_on is not None and on > row.investigation_due_on
        return (
            {"investigators": names, "verification": summary, "assessment": assessment},
            {"investigators": names, "verification_attached": summary["attached"], "late_start": late},
        )
    if act_ is Action.notice:
        try:
            days = catalogue.process_on("notice_days", on).value
        except NotInForce as e:
            raise ApplicationError(
                422, "invalid", str(e), "事项目录在该日期没有生效的公示天数", "on"
            ) from None
        return {"notice_until": model.notice_until(on, days)}, {"notice_days": days}
    if act_ is Action.refuse:
        due, provisional = working_day_after(
            conn, on, catalogue.process_on("refusal_notice_working_days", on).value
        )
        return (
            {
                "reason": note,
                "refusal_notice_due_on": due,
                "dates_provisional": bool(row.dates_provisional) or provisional,
            },
            None,
        )
    if act_ is Action.notify_refusal:
        return {"refusal_notified_on": on}, None
    if act_ is Action.aid:
        return _aid(conn, row, on=on, now=now, amount_fen=aid_fen, actor=actor)
    if act_ is Action.enrol:
        if row.enrolment_starts_on is None or on < row.enrolment_starts_on:
            raise ApplicationError(
                409,
                "enrolment_not_begun",
                f"the enrolment begins on {row.enrolment_starts_on}; "
                "enrol on or after that day (the daily sweep does it)",
                f"纳入日期为 {row.enrolment_starts_on}，届时由每日任务自动办理",
                "on",
            )
        return {}, None
    return _approval(conn, row, on=on, checked=checked, actor=actor, now=now)


def _aid(
    conn: Connection, row: Any, *, on: dt.date, now: dt.datetime, amount_fen: int | None, actor: Any
) -> tuple[dict, dict]:
    """Emergency aid given first (先行救助): recorded on the application and on the household's assistance
    chain (a temporary-assistance record of civil affairs)."""
    from safetynet.casework.feedback import Assistance, check_assistance, record_assistance

    aid = Assistance(
        kind="temporary_assistance",
        given_on=on,
        amount_fen=amount_fen,
        notes=f"application {row.id}: aid first (先行救助)",
    )
    check_assistance(aid, source_kind="civil_affairs", today=workdays_model.local_date(now))
    assistance_id = record_assistance(
        conn,
        household_id=row.household_id,
        region_code=row.region_code,
        assistance=aid,
        source_kind="civil_affairs",
        source="civil_affairs",
        actor=actor,
        now=now,
        warning_id=row.warning_id,
    )
    late = row.due_at is not None and workdays_model.as_utc(moment(on, now)) > workdays_model.as_utc(
        row.due_at
    )
    return (
        {"aid_on": on, "aid_at": now, "aid_amount_fen": amount_fen, "aid_assistance_id": assistance_id},
        {"amount": model.yuan(amount_fen), "assistance_id": assistance_id, "late": late},
    )


def _approval(
    conn: Connection, row: Any, *, on: dt.date, checked: tuple | None, actor: Any, now: dt.datetime
) -> tuple[dict, dict | None]:
    """An approval: for a matter that opens a tier, the enrolment from the first day of the next month,
    with the tier and monthly amounts of the rules' assessment, written into the register."""
    values: dict = {}
    assessment = row.assessment
    if checked is not None:
        values = {"verification": checked[0], "assessment": checked[1]}
        assessment = checked[1]
    if not row.enrols:
        return values, None
    if not assessment:
        raise ApplicationError(
            409,
            "assessment_missing",
            f"approving {row.matter} opens the {row.enrols} enrolment with the rules' amount, which needs "
            "the family's economic-condition verification: record the family's authorisation "
            f"(safetynet verify authorise {row.household_no} …), then approve again",
            "批准须依据家庭经济状况核对结果测算待遇：请先登记家庭签署的核对授权书，再作批准决定",
            "action",
        )
    plan = model.enrolment_plan(assessment, row.enrols)
    person_of = {m["key"]: m["person_id"] for m in assessment.get("members") or []}
    missing = [p.key for p in plan if person_of.get(p.key) is None]
    if missing:
        raise ApplicationError(
            409,
            "assessment_stale",
            "the assessment's members no longer match the register "
            f"({', '.join(missing)}); investigate again",
            "测算成员与名册不一致，请重新调查",
            "action",
        )
    starts_on = model.first_of_next_month(on)
    persons = [
        {
            "person_id": person_of[p.key],
            "tier": p.tier,
            "monthly_benefit_fen": p.monthly_benefit_fen,
            "care_level": p.care_level,
        }
        for p in plan
    ]
    opened = registry_service.open_enrolment(
        conn,
        household_id=row.household_id,
        persons=persons,
        starts_on=starts_on,
        actor=actor_name(actor),
        source=f"application {row.id} ({row.matter}) approved on {on}",
    )
    monthly = sum(p.monthly_benefit_fen or 0 for p in plan)
    enrolment = {
        "tier": row.enrols,
        "starts_on": starts_on.isoformat(),
        "monthly_amount_fen": monthly,
        "persons": persons,
        "registry_import_id": opened["registry_import_id"],
    }
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="enrolment",
        object_id=row.household_no,
        fields=["tier", "since", "monthly_benefit_fen"],
        detail=f"application {row.id}: {row.enrols} from {starts_on}",
        at=now,
    )
    return (
        values | {"enrolment": enrolment, "enrolment_starts_on": starts_on},
        {
            "enrolment": {
                "tier": row.enrols,
                "starts_on": starts_on.isoformat(),
                "monthly_amount": model.yuan(monthly),
                "members": len(persons),
            }
        },
    )


# --- reading ----------------------------------------------------------------------------------------


def show(
    engine: Engine, *, application_id: int, scope: str | None = None, now: dt.datetime | None = None
) -> dict:
    """One application with its dates, history, assessment and enrolment (views.show), the household by
    its register number (the CLI's view); outside `scope`: NotFoundError, as a missing one."""
    with engine.connect() as conn:
        row = load(conn, application_id)
        if not _in_scope(row, scope):
            raise NotFoundError(f"application {application_id} not found")
        return views.show(conn, application_id=application_id, now=now or now_utc())


def read(
    conn: Connection, *, application_id: int, scope: str, now: dt.datetime, department: str | None = None
) -> dict:
    """One application as a signed-in reader sees it (the web): in their region (and for a department's
    reader, of their department), the household number masked; `registered_household_no` is the number
    for the page's link. Otherwise NotFoundError, as a missing one."""
    row = load(conn, application_id)
    if not _in_scope(row, scope, department):
        raise NotFoundError(f"application {application_id} not found")
    return views.show(conn, application_id=application_id, now=now, masked=True) | {
        "registered_household_no": row.household_no
    }
