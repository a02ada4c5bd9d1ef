"""Dashboard endpoint: counts by tier for a region and its children, enrolment trend."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, require
from safetynet.auth.model import Role
from safetynet.dashboard import service
from safetynet.errors import NotFoundError
from safetynet.registry.search import InvalidQuery

router = APIRouter(prefix="/dashboard", tags=["dashboard 监测看板"])


@router.get("/summary")
def summary(request: Request,
            region: str | None = Query(None, description="region code within yours; default: yours"),
            user: CurrentUser = Depends(require("dashboard.read"))) -> dict:
    """Persons and households by tier for the region and each child region (drill-down
    province → city → county → township → village), the 12-month enrolment trend, and
    warnings of the latest monitored month by level (a department liaison: the needs pushed to
    their department)."""
    from safetynet.casework.service import department_needs

    needs = (department_needs(request.app.state.engine, user.department)
             if user.role == Role.department_liaison.value else None)
    try:
        return service.summary(request.app.state.engine, region=region or user.region_code,
                               scope=user.region_code, warning_needs=needs)
    except InvalidQuery as e:
        raise errors.invalid(e.field, str(e), e.message_zh) from None
    except NotFoundError:
        raise errors.out_of_region() from None
