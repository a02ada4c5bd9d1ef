"""Registry endpoints for the caseworker's screens: search, household and person detail,
unmasking. Everything is scoped to the signed-in user's region subtree and masked; unmasked
identities and sensitive blocks need their own capability and are audited (field names and
purpose only, never the values): the answer is sent only once its audit row has committed.

These are the busiest routes (issue 6: p95 <= 100 ms at 20 concurrent users), so they answer
JSONResponse directly: the search module builds plain JSON-ready dicts, and FastAPI's
response validation of an untyped `dict` would only cost CPU.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, require
from safetynet.errors import NotFoundError
from safetynet.registry import search

router = APIRouter(tags=["registry 名册"])

_PAGE = Query(1, ge=1, description="1-based page")
_PAGE_SIZE = Query(20, ge=1, le=search.MAX_PAGE_SIZE, description="rows per page (max 200)")


def _invalid(e: search.InvalidQuery) -> errors.ApiError:
    return errors.invalid(e.field, str(e), e.message_zh)


@router.get("/registry/summary")
def summary(request: Request, user: CurrentUser = Depends(require("registry.read"))) -> dict:
    """Persons per current tier in the user's region."""
    return {"region_code": user.region_code,
            "persons_by_tier": search.tier_counts(request.app.state.engine, scope=user.region_code)}


@router.get("/households")
def households(
    request: Request,
    q: str | None = Query(None, description="household number, name, or id number (full or last 4)"),
    name: str | None = Query(None, description="name of any member, exact or its beginning"),
    id_number: str | None = Query(None, description="full 18-character id number or its last 4"),
    region: str | None = Query(None, description="region code (2/4/6/9/12 digits) within your region"),
    tier: str | None = Query(None, description="current household tier, e.g. dibao"),
    page: int = _PAGE, page_size: int = _PAGE_SIZE,
    user: CurrentUser = Depends(require("registry.read")),
) -> JSONResponse:
    """Search households in your region (masked). `total` counts matches up to 10,000;
    `total_capped` is true when there are more (narrow the search to page beyond them). A search
    by a whole identity number is audited."""
    try:
        result = search.search_households(
            request.app.state.engine, scope=user.region_code, q=q, name=name, id_number=id_number,
            region=region, tier=tier, page=page, page_size=page_size)
    except search.InvalidQuery as e:
        raise _invalid(e) from None
    except NotFoundError:
        raise errors.out_of_region() from None
    if result.by_full_id_number:  # the field searched by, never its value
        audit_record(request.app.state.engine, actor=user, action="read", object_type="household_search",
                     fields=["id_number"], purpose="household search by full id number",
                     detail=f"{result.total} found")
    return JSONResponse(result.as_dict())


def _scoped_read(request: Request, user: CurrentUser, fetch: Callable[[Connection, bool], dict], *,
                 object_type: str, object_id: str, purpose: str) -> JSONResponse:
    """One object of the user's region. One outside it answers exactly like a missing one.
    With registry.sensitive the `sensitive` block is included and the read is audited.

    No transaction: the reads run in autocommit (under READ COMMITTED each statement of a
    transaction would take its own snapshot anyway), and the audit row is inserted after them
    in autocommit too, so it has committed before the answer is built; if it fails, nothing
    is answered. That saves the BEGIN and COMMIT round trips of the busiest route."""
    sensitive = user.can("registry.sensitive")
    with search.reading(request.app.state.engine) as conn:
        try:
            out = fetch(conn, sensitive)
        except NotFoundError:
            raise errors.out_of_region() from None
        if sensitive:
            audit_record(None, conn=conn, actor=user, action="read", object_type=object_type,
                         object_id=object_id, fields=list(search.SENSITIVE_FIELDS), purpose=purpose)
    return JSONResponse(out)


@router.get("/households/{household_no}")
def household(household_no: str, request: Request,
              user: CurrentUser = Depends(require("registry.read"))) -> JSONResponse:
    """One household: members (masked), tier and history, region path, versions. The
    `sensitive` block (benefit amounts, support form, care level) only with
    registry.sensitive, and that read is audited."""
    return _scoped_read(request, user, lambda conn, sensitive: search.household_detail(
        conn, household_no=household_no, scope=user.region_code, sensitive=sensitive),
        object_type="household", object_id=household_no, purpose="household detail")


@router.get("/persons/{person_id}")
def person(person_id: int, request: Request,
           user: CurrentUser = Depends(require("registry.read"))) -> JSONResponse:
    """One person (masked) with household and tier history; sensitive block as above."""
    return _scoped_read(request, user, lambda conn, sensitive: search.person_detail(
        conn, person_id=person_id, scope=user.region_code, sensitive=sensitive),
        object_type="person", object_id=str(person_id), purpose="person detail")


@router.post("/persons/{person_id}/unmask")
def unmask(person_id: int, request: Request,
           purpose: str | None = Body(None, embed=True, description="why you need the full identity"),
           user: CurrentUser = Depends(require("registry.unmask"))) -> dict:
    """The full name and id number, for a stated purpose; audited."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise errors.invalid("purpose", "state the purpose of unmasking (at least 2 characters), "
                             "e.g. 'home visit verification'", "请填写查看完整身份信息的事由（至少 2 个字）")
    with request.app.state.engine.begin() as conn:
        try:
            who = search.unmasked_identity(conn, person_id=person_id, scope=user.region_code)
        except NotFoundError:
            raise errors.out_of_region() from None
        audit_record(None, conn=conn, actor=user, action="unmask", object_type="person",
                     object_id=str(person_id), fields=["id_number", "name"], purpose=purpose)
    return {"person_id": who["person_id"], "id_number": who["id_number"], "name": who["name"]}
