"""Intake (受理): an application for a household in the register, or for a new household whose members
are validated and opened in the register with its history, from the counter, online or a warning's field
check; accepted on its date by default. One transaction: the new household, the application, its
history and audit rows commit together or not at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from safetynet import identity
from safetynet.applications import model, submission, views
from safetynet.applications.catalogue import Catalogue, Matter, load_catalogue
from safetynet.applications.model import Action, ApplicationError, Status
from safetynet.applications.service import acceptance, actor_name, load, moment, now_utc, transition, who
from safetynet.applications.store import application_events, applications
from safetynet.audit.service import record as audit_record
from safetynet.errors import NotFoundError
from safetynet.registry import lookup as registry_lookup
from safetynet.registry import search
from safetynet.registry import service as registry_service
from safetynet.workdays import model as workdays_model


@dataclass(frozen=True)
class _Household:
    id: int | None  # None: a new household, opened in the write transaction
    no: str
    region_code: str
    grid_code: str | None
    applicant_person_id: int | None


def _existing_household(engine: Engine, sub: submission.Submission, scope: str | None) -> _Household:
    """The household of a submission from the register, in the caller's region (outside it: not found,
    as a missing one), with the applicant among its members on the submission date."""
    try:
        household = registry_service.get_household(
            engine, household_no=sub.household_no, unmasked=True, on=sub.submitted_on
        )
    except NotFoundError:
        raise NotFoundError(
            f"household {sub.household_no} is not in the register; a new household is "
            "submitted with its members and household (region, registration)"
        ) from None
    if scope and not search.household_in_scope(household.region_code, household.grid_code, scope):
        raise NotFoundError(f"household {sub.household_no} is not in the register")
    applicant = next((m for m in household.members if m.id_number == sub.applicant_id_number), None)
    if applicant is None:
        raise submission.SubmissionError(
            [
                (
                    "applicant_id_number",
                    f"{identity.mask_id_number(sub.applicant_id_number)} "
                    f"is not a member of household {sub.household_no} on "
                    f"{sub.submitted_on.isoformat()}: the applicant is one of its members",
                )
            ]
        )
    return _Household(
        registry_lookup.household_id(engine, household_no=sub.household_no),
        sub.household_no,
        household.region_code,
        household.grid_code,
        applicant.person_id,
    )


def _check_links(conn: Connection, sub: submission.Submission, household_id: int) -> None:
    """An application from a warning names a warning (and its task) of the same household; a warning about
    a person the register did not hold names one of the new household's members."""
    from safetynet.casework import service as casework_service
    from safetynet.monitoring import service as monitoring_service

    if sub.warning_id is None:
        return
    warning = monitoring_service.warning_brief(conn, warning_id=sub.warning_id)
    members = {m["id_number"] for m in sub.members}
    if warning is None:
        raise submission.SubmissionError([("warning_id", f"there is no warning {sub.warning_id}")])
    if warning["household_id"] != household_id and not (
        warning["household_id"] is None and warning["id_number"] in members
    ):
        raise submission.SubmissionError(
            [
                (
                    "warning_id",
                    f"warning {sub.warning_id} is about another household; an "
                    "application from a warning is for the warning's household",
                )
            ]
        )
    if sub.task_id is None:
        return
    try:
        task = casework_service.load_task(conn, sub.task_id)
    except NotFoundError:
        raise submission.SubmissionError([("task_id", f"there is no task {sub.task_id}")]) from None
    if task.warning_id != sub.warning_id:
        raise submission.SubmissionError(
            [
                (
                    "task_id",
                    f"task {sub.task_id} belongs to warning {task.warning_id}, not "
                    f"to warning {sub.warning_id}",
                )
            ]
        )


def _open_one(conn: Connection, household_id: int, matter: str) -> None:
    found = conn.execute(
        select(applications.c.id, applications.c.status).where(
            applications.c.household_id == household_id,
            applications.c.matter == matter,
            applications.c.status.in_([s.value for s in model.OPEN]),
        )
    ).first()
    if found is not None:
        raise ApplicationError(
            409,
            "already_open",
            f"the household already has an open application for {matter}: application "
            f"{found.id} ({found.status}); one open application per household and matter — "
            "continue that one, or withdraw it first",
            f"该户已有未办结的同类申请（编号 {found.id}，{model.STATUS_LABELS[found.status]['zh']}），"
            "同一户同一事项只能有一个在办申请",
            "matter",
        )


def submit(
    engine: Engine,
    *,
    payload: Any,
    actor: Any,
    scope: str | None = None,
    accept: bool = True,
    now: dt.datetime | None = None,
    source: str | None = None,
    catalogue: Catalogue | None = None,
) -> dict:
    """Take an application (the contract's JSON): for a household in the register (in `scope`, the
    caller's region, when given), or a new household with its members, which is opened in the register.
    Accepted on its date unless `accept` is false (then it waits, `submitted`, in the township's intake
    queue). `source` names the input for messages (the CLI's file). Returns the contract's
    {application_id, matter, status, household_id, accepted_on, due_on[, due_at]}."""
    now = workdays_model.as_utc(now or now_utc()).astimezone(dt.UTC)  # SQLite keeps digits, not zones
    today = workdays_model.local_date(now)
    catalogue = catalogue or load_catalogue()
    sub = submission.parse_submission(payload, today=today, matters=catalogue.ids(), source=source)
    matter = catalogue.matter(sub.matter)
    if sub.members:
        region, grid = sub.household["region_code"], sub.household["grid_code"]
        if scope and not search.household_in_scope(region, grid, scope):
            raise submission.SubmissionError(
                [("household.region", f"{region} lies outside your region ({scope})")]
            )
        household = _Household(None, sub.household_no, region, grid, None)
    else:
        household = _existing_household(engine, sub, scope)
    try:
        with engine.begin() as conn:
            household = _opened(conn, household, sub, actor)
            _check_links(conn, sub, household.id)
            _open_one(conn, household.id, matter.id)
            app_id = _insert(conn, sub, matter, household, actor=actor, now=now)
            if accept:
                row = load(conn, app_id)
                values = acceptance(conn, row, on=sub.submitted_on, now=now, catalogue=catalogue)
                transition(
                    conn,
                    row,
                    Action.accept,
                    Status.accepted,
                    on=sub.submitted_on,
                    actor=actor,
                    now=now,
                    values=values,
                )
            out = load(conn, app_id)
    except IntegrityError as e:
        if "applications" not in str(e.orig):  # the register changed under a new household's opening
            raise ApplicationError(
                409,
                "conflict",
                "the register changed meanwhile (the household or a member "
                "was added by someone else); check it and submit again",
                "名册已被他人修改，请核对后重新提交",
                "household_id",
            ) from None
        # the partial unique index: another clerk's submission for the household and matter won the race
        raise ApplicationError(
            409,
            "already_open",
            f"the household already has an open application for {matter.id}",
            "该户已有未办结的同类申请",
            "matter",
        ) from None
    return views.submitted(out)


def _opened(conn: Connection, household: _Household, sub: submission.Submission, actor: Any) -> _Household:
    """The household, opened in the register first when it is new (members validated, with history)."""
    if household.id is not None:
        return household
    try:
        opened = registry_service.open_household(
            conn,
            household={"household_no": sub.household_no, **sub.household},
            members=sub.members,
            as_of=sub.submitted_on,
            actor=actor_name(actor),
            source=f"application intake ({sub.matter}, {sub.channel})",
        )
    except registry_service.RegisterConflict as e:
        raise ApplicationError(409, "conflict", str(e), e.message_zh, e.field) from None
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="household",
        object_id=sub.household_no,
        fields=["household", "members"],
        detail="opened by an application",
    )
    return _Household(
        opened["household_id"],
        sub.household_no,
        household.region_code,
        household.grid_code,
        opened["person_ids"][sub.applicant_id_number],
    )


def _insert(
    conn: Connection,
    sub: submission.Submission,
    matter: Matter,
    household: _Household,
    *,
    actor: Any,
    now: dt.datetime,
) -> int:
    at = moment(sub.submitted_on, now)
    app_id = conn.execute(
        insert(applications)
        .returning(applications.c.id)
        .values(
            matter=matter.id,
            status=Status.submitted.value,
            channel=sub.channel,
            household_id=household.id,
            household_no=household.no,
            region_code=household.region_code,
            grid_code=household.grid_code,
            applicant_person_id=household.applicant_person_id,
            warning_id=sub.warning_id,
            task_id=sub.task_id,
            department=matter.department.value,
            decides=matter.decides.value,
            enrols=matter.enrols,
            needs_notice=matter.needs_notice,
            aid_first_hours=matter.aid_first_hours.value if matter.aid_first_hours else None,
            dates_provisional=False,
            submitted_on=sub.submitted_on,
            submitted_at=at,
            created_by=actor_name(actor),
            updated_at=now,
        )
    ).scalar_one()
    by, role, detail = who(actor, household.region_code)
    conn.execute(
        insert(application_events).values(
            application_id=app_id,
            action="submit",
            from_status=None,
            to_status=Status.submitted.value,
            dated_on=sub.submitted_on,
            at=now,
            actor=by,
            actor_role=role,
            note=None,
            detail={**(detail or {}), "channel": sub.channel, "new_household": bool(sub.members)},
        )
    )
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="application",
        object_id=str(app_id),
        fields=[
            "matter",
            "household",
            "applicant",
            "channel",
            "submitted_on",
            *(["warning_id"] if sub.warning_id else []),
        ],
        detail=f"submit {matter.id}",
        at=now,
    )
    return app_id
