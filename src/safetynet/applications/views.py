"""Applications as they are read: the submission's answer, one application with its dates, history,
assessment and enrolment (`show`), and the list of a region's applications with filters and paging.
Names and identity numbers are always masked; the household number too for the web (`masked`), which
links to the household page instead."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from safetynet import identity
from safetynet.applications import model
from safetynet.applications.catalogue import load_catalogue
from safetynet.applications.model import CHANNEL_LABELS, STATUS_LABELS, Action, Status
from safetynet.applications.store import application_events, applications
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.registry import search
from safetynet.registry import service as registry_service
from safetynet.workdays import model as workdays_model

MAX_PAGE_SIZE = 200
_RUNNING = [Status.accepted.value, Status.investigating.value, Status.notice.value]


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # stored in UTC (SQLite drops the zone): shown in Beijing time
        return workdays_model.as_utc(value).astimezone(workdays_model.PLATFORM_TZ).isoformat()
    return value.isoformat()


def _names(matter: str) -> dict[str, str]:
    """The matter's names from the catalogue in use (its id when the catalogue no longer has it)."""
    try:
        m = load_catalogue().matter(matter)
        return {"zh": m.name_zh, "en": m.name_en}
    except SafetynetError:  # a catalogue that no longer has it, or cannot be read: the id stands in
        return {"zh": matter, "en": matter}


def rules(row: Any) -> tuple[model.MatterRules, model.Facts]:
    """The matter's rules as stored at submission (a later catalogue change does not alter a running
    application) and the facts the lifecycle looks at."""
    return (
        model.MatterRules(row.matter, bool(row.needs_notice), row.enrols, bool(row.aid_first_hours)),
        model.Facts(
            Status(row.status),
            aided=row.aid_on is not None,
            refusal_notified=row.refusal_notified_on is not None,
        ),
    )


def allowed(row: Any) -> list[Action]:
    return model.allowed_actions(*rules(row))


def submitted(row: Any) -> dict:
    """The contract's answer to a submission; `due_at` only for a matter with aid first."""
    out = {
        "application_id": row.id,
        "matter": row.matter,
        "status": row.status,
        "household_id": row.household_no,
        "accepted_on": _iso(row.accepted_on),
        "due_on": _iso(row.due_on),
    }
    if row.aid_first_hours:
        out["due_at"] = _iso(row.due_at)
    return out


def is_overdue(row: Any, now: dt.datetime) -> bool:
    """Open past its due date; or emergency aid not yet given 24 hours after acceptance."""
    today = workdays_model.local_date(now)
    if row.status not in _RUNNING:
        return False
    if row.due_on is not None and row.due_on < today:
        return True
    return (
        row.due_at is not None
        and row.aid_on is None
        and workdays_model.as_utc(row.due_at) < workdays_model.as_utc(now)
    )


def _enrolment(row: Any) -> dict | None:
    e = row.enrolment
    if not e:
        return None
    return {
        "tier": e["tier"],
        "starts_on": e["starts_on"],
        "monthly_amount": model.yuan(e["monthly_amount_fen"]),
    }


def show(conn: Connection, *, application_id: int, now: dt.datetime, masked: bool = False) -> dict:
    """One application: matter, state, every date, who investigated, the reasons, the first aid, the
    actions allowed now, the history (who, when, note), the verification attached, the rules' assessment
    behind the decision and, once approved, the enrolment {tier, starts_on, monthly_amount}."""
    row = conn.execute(select(applications).where(applications.c.id == application_id)).first()
    if row is None:
        raise NotFoundError(f"application {application_id} not found")
    applicant = registry_service.persons_brief(conn, [row.applicant_person_id]).get(
        row.applicant_person_id, {}
    )
    events = conn.execute(
        select(application_events)
        .where(application_events.c.application_id == row.id)
        .order_by(application_events.c.id)
    ).all()
    out = {
        "application_id": row.id,
        "matter": row.matter,
        "matter_name": _names(row.matter),
        "status": row.status,
        "status_label": STATUS_LABELS[row.status],
        "channel": row.channel,
        "channel_label": CHANNEL_LABELS[row.channel],
        "household_id": identity.mask_household_no(row.household_no) if masked else row.household_no,
        "region_code": row.region_code,
        "department": row.department,
        "decides": row.decides,
        "applicant": {
            "name": identity.mask_name(applicant.get("name", "")),
            "id_number": identity.mask_id_number(applicant.get("id_number", "")),
        },
        "warning_id": row.warning_id,
        "task_id": row.task_id,
        **{f"{s.value}_on": _iso(getattr(row, f"{s.value}_on")) for s in Status},
        "notice_until": _iso(row.notice_until),
        "due_on": _iso(row.due_on),
        "due_at": _iso(row.due_at),
        "limit_working_days": row.limit_working_days,
        "investigation_due_on": _iso(row.investigation_due_on),
        "refusal_notice_due_on": _iso(row.refusal_notice_due_on),
        "refusal_notified_on": _iso(row.refusal_notified_on),
        "dates_provisional": bool(row.dates_provisional),
        "overdue": is_overdue(row, now),
        "investigators": row.investigators,
        "reason": row.reason,
        "aid": (
            {
                "on": _iso(row.aid_on),
                "amount": model.yuan(row.aid_amount_fen),
                "assistance_id": row.aid_assistance_id,
            }
            if row.aid_on
            else None
        ),
        "allowed_actions": [a.value for a in allowed(row)],
        "history": [
            {
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "on": _iso(e.dated_on),
                "at": _iso(e.at),
                "by": e.actor,
                "role": e.actor_role,
                "note": e.note,
                "detail": e.detail,
            }
            for e in events
        ],
        "verification": row.verification,
        "assessment": model.assessment_view(row.assessment),
        "enrolment": _enrolment(row),
    }
    return out


def scope_conditions(scope: str | None, region: str | None = None, department: str | None = None) -> list:
    """The applications a reader bound to `scope` may list (None: every one), narrowed to `region`
    (NotFoundError when it lies outside the scope); a department's reader: only its matters."""
    conds = []
    within = search.narrower(scope, region) if scope else (region or None)
    if scope and within is None:
        raise NotFoundError(f"region {region} not found")
    if within:
        conds.append(
            search.region_condition(
                within, region_col=applications.c.region_code, grid_col=applications.c.grid_code
            )
        )
    if department:
        conds.append(applications.c.department == department)
    return conds


def list_applications(
    conn: Connection,
    *,
    now: dt.datetime,
    scope: str | None = None,
    region: str | None = None,
    department: str | None = None,
    status: str | None = None,
    matter: str | None = None,
    channel: str | None = None,
    household_no: str | None = None,
    overdue: bool = False,
    open_only: bool = False,
    page: int = 1,
    page_size: int = 20,
    masked: bool = True,
) -> dict:
    """The applications of a region, open ones first, nearest due date first: {items, total, page,
    page_size}. Items: number, matter, state, channel, household (masked for the web), applicant (masked),
    the dates, whether overdue."""
    if (
        not isinstance(page, int)
        or page < 1
        or not isinstance(page_size, int)
        or not 1 <= page_size <= MAX_PAGE_SIZE
    ):
        raise model.ApplicationError(
            422,
            "invalid",
            f"page ≥ 1 and page_size 1 to {MAX_PAGE_SIZE}",
            "页码须 ≥ 1，每页 1–200 条",
            "page",
        )
    a = applications
    conds = scope_conditions(scope, region, department)
    for column, wanted in (
        (a.c.status, status),
        (a.c.matter, matter),
        (a.c.channel, channel),
        (a.c.household_no, household_no),
    ):
        if wanted:
            conds.append(column == wanted)
    if open_only:
        conds.append(a.c.status.in_([s.value for s in model.OPEN]))
    if overdue:
        today = workdays_model.local_date(now)
        conds.append(a.c.status.in_(_RUNNING))
        conds.append(or_(a.c.due_on < today, and_(a.c.due_at < now, a.c.aid_on.is_(None))))
    total = conn.execute(select(func.count()).select_from(a).where(*conds)).scalar_one()
    is_open = case((a.c.status.in_([s.value for s in model.OPEN]), 0), else_=1)
    rows = conn.execute(
        select(a)
        .where(*conds)
        .order_by(is_open, a.c.due_on, a.c.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    people = registry_service.persons_brief(conn, [r.applicant_person_id for r in rows])
    names = {m: _names(m) for m in {r.matter for r in rows}}
    items = [
        {
            "application_id": r.id,
            "matter": r.matter,
            "matter_name": names[r.matter],
            "status": r.status,
            "status_label": STATUS_LABELS[r.status],
            "channel": r.channel,
            "region_code": r.region_code,
            "household_id": identity.mask_household_no(r.household_no) if masked else r.household_no,
            "applicant_name": identity.mask_name(people.get(r.applicant_person_id, {}).get("name", "")),
            "department": r.department,
            "submitted_on": _iso(r.submitted_on),
            "accepted_on": _iso(r.accepted_on),
            "due_on": _iso(r.due_on),
            "due_at": _iso(r.due_at),
            "overdue": is_overdue(r, now),
            "warning_id": r.warning_id,
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def overdue_count(conn: Connection, *, on: dt.date) -> int:
    a = applications
    return conn.execute(
        select(func.count()).select_from(a).where(a.c.status.in_(_RUNNING), a.c.due_on < on)
    ).scalar_one()
