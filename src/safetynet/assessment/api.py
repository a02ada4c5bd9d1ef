"""Batch assessment runs (mounted under /api/v1): start a run, list runs, read one, page its
tier changes with masked household numbers. Invalid input answers 422 and an unknown run 404,
with the shared error body (api/errors.py). The capability is checked
where the router is included (api/app.py); here every answer is limited to the signed-in
user's region: a run starts inside it; a run of another region is not found; a run over a
larger region shows only the user's part (service.reader_view). Reading a run's households
(income, benefit, tiers) is audited like the register's sensitive reads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from safetynet.api.errors import invalid
from safetynet.assessment import model, service
from safetynet.audit.service import record as audit_record
from safetynet.auth.deps import CurrentUser, current_user, ensure_in_scope
from safetynet.auth.errors import ApiError

router = APIRouter(prefix="/assessment-runs", tags=["assessment 批量认定"])


class RunBody(BaseModel):
    month: str = Field(..., examples=["2025-07"])
    region: str | None = Field(None, examples=["3704"],
                               description="only households under this code (default: the user's region)")


def _invalid(e: model.AssessmentInputError) -> ApiError:
    return invalid(str(e), e.field)


@router.post("", summary="Assess every household for a month and save a dated run 批量认定")
async def start_run(body: RunBody, request: Request,
                    user: CurrentUser = Depends(current_user)) -> JSONResponse:
    """Runs synchronously (a 3M-household register takes minutes; see the benchmark) and
    answers the run summary: totals and by county, tiers and change kinds, money in fen."""
    from safetynet.config import get_settings

    try:
        model.check_month(body.month)
        region = model.check_region(body.region or user.scope_prefix or None)
    except model.AssessmentInputError as e:
        raise _invalid(e) from e
    ensure_in_scope(user, region or "")  # a run outside the user's region answers 404
    lake_dir = getattr(request.app.state, "lake_dir", None) or get_settings().data_dir / "lake"
    result = await run_in_threadpool(service.run_assessment, request.app.state.engine, month=body.month,
                                     region=region, actor=user.username, lake_dir=lake_dir)
    return JSONResponse(result, status_code=201)


@router.get("", summary="Runs with households of your region, newest first 批量认定记录")
def list_runs(request: Request, month: str | None = None, page: int = 1, page_size: int = 20,
              user: CurrentUser = Depends(current_user)) -> JSONResponse:
    try:
        return JSONResponse(service.list_runs(request.app.state.engine, month=month, page=page,
                                              page_size=page_size, scope=user.scope_prefix))
    except model.AssessmentInputError as e:
        raise _invalid(e) from e


@router.get("/{run_id}", summary="One run: summary by county (your region's part), provenance, timings")
def get_run(run_id: int, request: Request, user: CurrentUser = Depends(current_user)) -> JSONResponse:
    # NotFoundError (unknown, or nothing of the user's region): 404 by the app
    return JSONResponse(service.reader_view(request.app.state.engine, run_id=run_id, scope=user.scope_prefix))


@router.get("/{run_id}/changes", summary="Households of a run by tier change (numbers masked) 变化户")
def changes(run_id: int, request: Request, change: str | None = None, county: str | None = None,
            include_unchanged: bool = False, page: int = 1, page_size: int = 50,
            user: CurrentUser = Depends(current_user)) -> JSONResponse:
    """Each household's tiers, and with registry.sensitive its income and benefit (null
    otherwise, as in household detail). The read is audited (field names, never values)
    before it is answered."""
    amounts = user.can("registry.sensitive")
    engine = request.app.state.engine
    try:
        out = service.list_changes(engine, run_id=run_id, change=change, county=county,
                                   include_unchanged=include_unchanged, page=page, page_size=page_size,
                                   scope=user.scope_prefix, amounts=amounts)
    except model.AssessmentInputError as e:
        raise _invalid(e) from e
    audit_record(engine, actor=user, action="read", object_type="assessment_run", object_id=str(run_id),
                 fields=service.changes_fields(amounts=amounts), purpose="assessment run changes",
                 detail=f"{len(out['items'])} households, page {out['page']}; change "
                        f"{change or ('any' if include_unchanged else 'changed')}; county {county or 'all'}")
    return JSONResponse(out)
