"""Batch assessment runs (mounted under /api/v1): start a run, list runs, read one, page its
tier changes with masked household numbers. Invalid input answers 422 and an unknown run 404,
with the shared error body (api/errors.py). The capability is checked
where the router is included (api/app.py); here every answer is limited to the signed-in
user's region: a run starts inside it, and results and county figures outside it are left out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from safetynet.api.errors import invalid
from safetynet.assessment import model, service
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


@router.get("", summary="Runs, newest first 批量认定记录")
def list_runs(request: Request, month: str | None = None, page: int = 1, page_size: int = 20) -> JSONResponse:
    try:
        return JSONResponse(service.list_runs(request.app.state.engine, month=month, page=page,
                                              page_size=page_size))
    except model.AssessmentInputError as e:
        raise _invalid(e) from e


@router.get("/{run_id}", summary="One run: summary by county, provenance, timings")
def get_run(run_id: int, request: Request, user: CurrentUser = Depends(current_user)) -> JSONResponse:
    return JSONResponse(service.scoped_run(service.get_run(request.app.state.engine, run_id=run_id),
                                           user.scope_prefix))  # NotFoundError: 404 by the app


@router.get("/{run_id}/changes", summary="Households of a run by tier change (numbers masked) 变化户")
def changes(run_id: int, request: Request, change: str | None = None, county: str | None = None,
            include_unchanged: bool = False, page: int = 1, page_size: int = 50,
            user: CurrentUser = Depends(current_user)) -> JSONResponse:
    try:
        out = service.list_changes(request.app.state.engine, run_id=run_id, change=change, county=county,
                                   include_unchanged=include_unchanged, page=page, page_size=page_size,
                                   scope=user.scope_prefix)
    except model.AssessmentInputError as e:
        raise _invalid(e) from e
    return JSONResponse(out)
