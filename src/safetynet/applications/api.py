"""Application endpoints (申请受理 · 审核确认): the matter catalogue, a region's applications with filters
and paging, intake, one application (audited as a read of personal data) and its lifecycle actions.

Capabilities (existing ones, until applications get their own): reading `verification.read` (township
staff, reviewers, administrators, auditors); intake and the steps of the case `verification.authorise`
(the caseworker takes the family's signed authorisation with the application); the decision — approve,
refuse — also `assessment.run` (the township reviewer and administrators, not the caseworker). Scoped
to the user's region: an application outside it answers 404, as a missing one. Names, identity numbers
and household numbers are masked; the household page is linked instead."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from safetynet.applications import intake, model, service, views
from safetynet.applications.catalogue import UnknownMatter, load_catalogue
from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, now, require
from safetynet.auth.model import Role
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.registry import search
from safetynet.registry.service import RegisterConflict
from safetynet.workdays.model import local_date

READ, INTAKE, DECIDE = "applications.read", "applications.intake", "applications.decide"
DECISIONS = frozenset({model.Action.approve.value, model.Action.refuse.value})
#: the personal data a read of one application shows (its audit row names them, never their values)
DETAIL_FIELDS = ("applicant", "household", "history", "verification", "assessment", "enrolment")

router = APIRouter(prefix="/applications", tags=["applications 申请受理"])

SUBMISSION_EXAMPLE = {
    "matter": "dibao",
    "household_id": "H001",
    "applicant_id_number": "370402197504020238",
    "submitted_on": "2026-07-06",
    "channel": "counter",
}
NEW_HOUSEHOLD_EXAMPLE = {
    "matter": "temporary_emergency",
    "household_id": "N2026-0001",
    "applicant_id_number": "370402198001010011",
    "submitted_on": "2026-07-06",
    "channel": "counter",
    "household": {"region": "370402001001", "registration": "urban", "address": "光明路9号"},
    "members": [{"id_number": "370402198001010011", "name": "刘强", "relation": "head"}],
}


def _api_error(e: SafetynetError) -> Exception:
    """The platform's error body for a refusal of this capability (the app renders ApiError)."""
    if isinstance(e, model.TransitionError):  # the actions allowed now ride along for the page's buttons
        return HTTPException(
            e.status,
            detail={
                "code": e.code,
                "message": e.message,
                "message_zh": e.message_zh,
                "field": e.field,
                "allowed_actions": e.allowed,
            },
        )
    if isinstance(e, model.ApplicationError):
        return errors.ApiError(e.status, e.code, e.message, e.message_zh, e.field)
    if isinstance(e, RegisterConflict):
        return errors.ApiError(409, "conflict", str(e), e.message_zh, e.field)
    if isinstance(e, UnknownMatter):
        return errors.ApiError(422, "invalid", str(e), e.message_zh, "matter")
    if isinstance(e, search.InvalidQuery):
        return errors.invalid(e.field, str(e), e.message_zh)
    if isinstance(e, NotFoundError):
        return errors.out_of_region()
    return e


def _department(user: CurrentUser) -> str | None:
    """A department's liaison reads its department's matters only."""
    return (user.department or "-") if user.role == Role.department_liaison.value else None


def _lake_dir(request: Request):  # noqa: ANN202
    return getattr(request.app.state, "lake_dir", None)


@router.get("/matters", summary="The matter catalogue 事项目录")
def matters(request: Request, user: CurrentUser = Depends(require())) -> JSONResponse:
    """Every matter with who decides it, its department, whether a public notice precedes the decision
    and the time limit in force today, each value with its source; and the process limits."""
    return JSONResponse(load_catalogue().as_dict(local_date(now(request))))


@router.get("", summary="Applications in your region 申请列表")
def list_applications(
    request: Request,
    status: str | None = Query(None, description=", ".join(model.Status)),
    matter: str | None = Query(None, description="a matter id of the catalogue"),
    channel: str | None = Query(None, description=", ".join(model.Channel)),
    region: str | None = Query(None, description="a region code within yours"),
    household_no: str | None = Query(None, max_length=64, description="the register's household number"),
    overdue: bool = Query(False, description="open and past the due date"),
    open: bool = Query(False, description="only undecided applications"),
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=views.MAX_PAGE_SIZE),
    user: CurrentUser = Depends(require(READ)),
) -> JSONResponse:
    """Items: number, matter (with names), state, channel, masked household number and applicant, the
    dates, whether overdue. Undecided first, nearest due date first."""
    if status and status not in model.Status.__members__:
        raise errors.invalid(
            "status", f"status must be one of {', '.join(model.Status)}, got {status!r}", "申请状态无效"
        )
    if channel and channel not in model.Channel.__members__:
        raise errors.invalid(
            "channel", f"channel must be one of {', '.join(model.Channel)}, got {channel!r}", "申请渠道无效"
        )
    try:
        with search.reading(request.app.state.engine) as conn:
            out = views.list_applications(
                conn,
                now=now(request),
                scope=user.region_code,
                region=region,
                department=_department(user),
                status=status,
                matter=matter,
                channel=channel,
                household_no=household_no,
                overdue=overdue,
                open_only=open,
                page=page,
                page_size=page_size,
            )
    except SafetynetError as e:
        raise _api_error(e) from None
    return JSONResponse(out)


@router.post("", status_code=201, summary="Submit an application 受理申请")
def submit(
    request: Request,
    body: Any = Body(
        ...,
        openapi_examples={
            "household in the register": {"value": SUBMISSION_EXAMPLE},
            "new household with its members": {"value": NEW_HOUSEHOLD_EXAMPLE},
        },
    ),
    accept: bool = Query(True, description="false: leave it submitted in the township's intake queue"),
    user: CurrentUser = Depends(require(INTAKE)),
) -> JSONResponse:
    """The contract's submission ({matter, household_id, applicant_id_number, submitted_on, channel,
    warning_id?, task_id?, household?, members?}); a household outside your region answers 404. Answers
    {application_id, matter, status, household_id, accepted_on, due_on[, due_at]}."""
    try:
        out = intake.submit(
            request.app.state.engine,
            payload=body,
            actor=user,
            scope=user.region_code,
            accept=accept,
            now=now(request),
        )
    except SafetynetError as e:
        raise _api_error(e) from None
    return JSONResponse(out, status_code=201)


@router.get("/{application_id}", summary="One application 申请详情")
def detail(application_id: int, request: Request, user: CurrentUser = Depends(require(READ))) -> JSONResponse:
    """Status, dates, history, the verification and the rules' assessment behind the decision, the
    enrolment once approved, and the actions allowed now. Audited as a read of personal data."""
    engine = request.app.state.engine
    try:
        with engine.begin() as conn:
            out = service.read(
                conn,
                application_id=application_id,
                scope=user.region_code,
                now=now(request),
                department=_department(user),
            )
            audit_record(
                None,
                conn=conn,
                actor=user,
                action="read",
                object_type="application",
                object_id=str(application_id),
                fields=list(DETAIL_FIELDS),
                purpose="application detail",
                at=now(request),
            )
    except SafetynetError as e:
        raise _api_error(e) from None
    return JSONResponse(_links(out, user))


def _links(out: dict, user: CurrentUser) -> dict:
    """Pages to go on to: the household (addressed by the register's number, which the page masks), the
    warning and the task it came from, as the user may open them."""
    registered = out.pop("registered_household_no", None)
    out["household_link"] = (
        f"/households/{quote(registered, safe='')}" if registered and user.can("registry.read") else None
    )
    out["warning_link"] = (
        f"/warnings/{out['warning_id']}" if out["warning_id"] and user.can("warnings.read") else None
    )
    out["task_link"] = f"/tasks/{out['task_id']}" if out["task_id"] and user.can("tasks.read") else None
    if not user.can(DECIDE):  # the buttons a caseworker sees: the decision is the reviewer's
        out["allowed_actions"] = [a for a in out["allowed_actions"] if a not in DECISIONS]
    return out


class ActionBody(BaseModel):
    action: str = Field(
        max_length=32,
        description="accept, not_accept, investigate, notice, approve, refuse, "
        "withdraw, aid, notify_refusal, enrol",
    )
    on: dt.date | None = Field(None, description="the day the action was taken (default today)")
    reason: str | None = Field(
        None, max_length=2000, description="the reasons (required to refuse or not accept)"
    )
    staff: list[str] | None = Field(None, max_length=6, description="investigate: at least two investigators")
    amount: str | None = Field(None, max_length=20, description="aid: the amount given first, in yuan")


@router.post("/{application_id}/actions", summary="Take a lifecycle action 办理")
def act(
    application_id: int,
    request: Request,
    body: ActionBody = Body(...),
    user: CurrentUser = Depends(require(INTAKE)),
) -> JSONResponse:
    """An action the lifecycle does not allow now answers 409 `transition_not_allowed` with
    `allowed_actions`; approving or refusing needs the reviewer's capability (assessment.run).
    Answers the application as its detail does."""
    if body.action in DECISIONS and not user.can(DECIDE):
        audit_record(
            request.app.state.engine,
            actor=user,
            action="denied",
            object_type="route",
            object_id=f"POST {request.url.path}"[:64],
            result="denied",
            detail=f"missing {DECIDE}",
            at=now(request),
        )
        raise errors.forbidden(DECIDE)
    engine = request.app.state.engine
    try:
        service.act(
            engine,
            application_id=application_id,
            action=body.action,
            actor=user,
            scope=user.region_code,
            on=body.on,
            reason=body.reason,
            staff=body.staff,
            amount=body.amount,
            now=now(request),
            lake_dir=_lake_dir(request),
            department=_department(user),
        )
        with engine.connect() as conn:
            out = service.read(conn, application_id=application_id, scope=user.region_code, now=now(request))
    except SafetynetError as e:
        raise _api_error(e) from None
    return JSONResponse(_links(out, user))
