"""Registry endpoints. Only masked views until sign-in and roles arrive (issue: web platform)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from safetynet.registry import service

router = APIRouter(prefix="/registry", tags=["registry 名册"])


@router.get("/summary")
def summary(request: Request) -> dict:
    """Persons per current tier."""
    return {"persons_by_tier": service.tier_counts(request.app.state.engine)}


@router.get("/households/{household_no}")
def household(household_no: str, request: Request) -> dict:
    """One household with members; names and id numbers masked."""
    h = service.get_household(request.app.state.engine, household_no=household_no)
    return {
        "household_id": h.household_no, "region": h.region_code,
        "registration": h.registration, "grid": h.grid_code, "tier": h.tier,
        "version": h.version,
        "members": [
            {"name": m.name, "id_number": m.id_number, "sex": m.sex,
             "birth_date": m.birth_date.isoformat(), "relation": m.relation, "tier": m.tier,
             "tier_since": m.since.isoformat() if m.since else None,
             "monthly_benefit": (f"{m.monthly_benefit_fen // 100}.{m.monthly_benefit_fen % 100:02d}"
                                 if m.monthly_benefit_fen is not None else None)}
            for m in h.members
        ],
    }
