"""`POST /simulate` (mounted under /api/v1 by the lead): body {month, dibao_standard,
region?} → the simulation result as JSON (money in fen). Invalid input answers 422
with the shared error body (api/errors.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from safetynet.api.errors import invalid
from safetynet.auth.deps import CurrentUser, current_user, ensure_in_scope
from safetynet.simulation.model import SimulationInputError, check_month, check_region, parse_change

router = APIRouter(tags=["simulation 政策模拟"])


class SimulateBody(BaseModel):
    month: str = Field(..., examples=["2025-07"])
    dibao_standard: str = Field(..., examples=["+7%"], description="+7%, -3%, +50 (yuan), =1000 (yuan)")
    region: str | None = Field(None, examples=["3704"])
    keep_linked: bool = Field(False, description="keep the standards linked to dibao unchanged "
                                                 "(default: they move with it, standards/links.yaml)")




@router.post("/simulate", summary="Policy simulation: a changed dibao standard over the registry 政策模拟")
async def simulate(body: SimulateBody, request: Request,
                   user: CurrentUser = Depends(current_user)) -> JSONResponse:
    """Baseline vs reform for the month: households newly in / out of each tier and the
    monthly and annual cost change (fen), by county and in total — over the user's region
    (or a region inside it)."""
    from safetynet.config import get_settings
    from safetynet.simulation import service

    for field, check in (("month", lambda: check_month(body.month)),
                         ("dibao_standard", lambda: parse_change(body.dibao_standard)),
                         ("region", lambda: check_region(body.region))):
        try:
            check()
        except SimulationInputError as e:
            raise invalid(str(e), field) from e
    region = body.region or user.scope_prefix
    ensure_in_scope(user, region)  # outside the user's region answers 404
    lake_dir = getattr(request.app.state, "lake_dir", None) or get_settings().data_dir / "lake"
    result = await run_in_threadpool(service.simulate, request.app.state.engine, month=body.month,
                                     dibao_change=body.dibao_standard, region=region, lake_dir=lake_dir,
                                     keep_linked=body.keep_linked)
    return JSONResponse(result.as_dict())
