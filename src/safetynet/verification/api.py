"""Verification endpoints: a household's authorisations and its verification report.
Capability and region scope are checked where the router is included (api/app.py); here the
signed-in user is the actor, and every report read and authorisation write is audited (field
kinds, never values). Names and identity numbers are masked in every response."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from safetynet.audit.service import record as audit_record
from safetynet.auth.deps import CurrentUser, current_user
from safetynet.verification import model, service

PURPOSE = "家庭经济状况核对 family economic-condition verification"

router = APIRouter(prefix="/households", tags=["verification 家庭经济状况核对"])


class AuthorisationIn(BaseModel):
    signed_on: dt.date = Field(description="签署日期")
    scope: list[str] = Field(description=f"授权范围: any of {', '.join(model.SCOPES)}")
    signer: str = Field(description="签署人姓名")
    document: str = Field(description="授权书编号 / reference of the signed document")
    valid_until: dt.date | None = Field(None, description="有效期至; null: until revoked")


def _lake_dir(request: Request):  # noqa: ANN202
    from safetynet.config import get_settings

    return getattr(request.app.state, "lake_dir", None) or get_settings().data_dir / "lake"


@router.post("/{household_no}/authorisations", status_code=201)
def record_authorisation(household_no: str, body: AuthorisationIn, request: Request,
                         user: CurrentUser = Depends(current_user)) -> dict:
    """Record a family's signed authorisation (recording the same one again changes nothing)."""
    engine = request.app.state.engine
    a = service.authorise(engine, household_no=household_no, signed_on=body.signed_on,
                          scope=body.scope, signer_name=body.signer, document_ref=body.document,
                          valid_until=body.valid_until, actor=user.username)
    audit_record(engine, actor=user, action="write", object_type="verification_authorisation",
                 object_id=household_no, fields=["signed_on", "scope", "signer", "document", "valid_until"],
                 purpose=PURPOSE)
    return service.authorisation_view(a)


@router.get("/{household_no}/authorisations")
def authorisations(household_no: str, request: Request) -> dict:
    """A household's authorisations, newest first, with their status today."""
    items = service.list_authorisations(request.app.state.engine, household_no=household_no)
    return {"household_no": household_no, "items": [service.authorisation_view(a) for a in items]}


@router.post("/{household_no}/authorisations/{authorisation_id}/revoke")
def revoke(household_no: str, authorisation_id: int, request: Request,
           user: CurrentUser = Depends(current_user)) -> dict:
    engine = request.app.state.engine
    a = service.revoke(engine, household_no=household_no, authorisation_id=authorisation_id,
                       actor=user.username)
    audit_record(engine, actor=user, action="write", object_type="verification_authorisation",
                 object_id=household_no, fields=["revoked_at"], purpose=PURPOSE)
    return service.authorisation_view(a)


@router.get("/{household_no}/verification")
def verification(household_no: str, request: Request,
                 month: str | None = Query(None, description="YYYY-MM (default: last complete month)"),
                 scope: str | None = Query(None, description="required kinds, comma-separated "
                                                             f"(default {','.join(model.MIN_SCOPE)})"),
                 assess: bool = Query(False, description="include the rules engine's assessment"),
                 user: CurrentUser = Depends(current_user)) -> dict:
    """The verification report; 403 when no authorisation valid today covers the scope asked for."""
    engine = request.app.state.engine
    if assess:
        scope = ",".join(dict.fromkeys([*model.MIN_SCOPE, *(scope.split(",") if scope else [])]))
    try:
        r = service.report(engine, household_no=household_no, month=month, scope=scope,
                           lake_dir=_lake_dir(request), actor=user.username)
    except model.NotAuthorisedError as e:
        audit_record(engine, actor=user, action="read", object_type="verification_report",
                     object_id=household_no, fields=sorted(e.missing), purpose=PURPOSE, result="denied")
        raise HTTPException(403, {"code": "not_authorised", "message": str(e), "message_zh": e.message_zh,
                                  "message_en": e.message_en, "missing": list(e.missing)}) from None
    if assess:
        r["assessment"] = service.assess(engine, report=r)
    audit_record(engine, actor=user, action="read", object_type="verification_report", object_id=household_no,
                 fields=sorted(r.get("scope") or (scope.split(",") if scope else model.MIN_SCOPE)),
                 purpose=PURPOSE)
    return r
