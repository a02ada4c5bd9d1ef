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
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection
from stdnum.cn import ric

from safetynet import exports, identity
from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.auth.deps import CurrentUser, now, require
from safetynet.errors import NotFoundError
from safetynet.registry import model, search
from safetynet.spreadsheet import Column

router = APIRouter(tags=["registry 名册"])

_PAGE = Query(1, ge=1, description="1-based page")
_PAGE_SIZE = Query(20, ge=1, le=search.MAX_PAGE_SIZE, description="rows per page (max 200)")


def _invalid(e: search.InvalidQuery) -> errors.ApiError:
    return errors.invalid(e.field, str(e), e.message_zh)


def _check_digit(field: str, value: str | None) -> None:
    """A whole identity number whose check digit is wrong matches no one: say so (with the digit it
    should have) rather than answer an empty list that reads as "not registered"."""
    number = identity.normalize(value or "")
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return  # not shaped as a whole number: the search's own checks answer
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise errors.invalid(field, f"the id number's check digit is {number[17]}, it should be {expected} "
                             "(a typing error in the number?)",
                             f"身份证号校验位有误：末位为 {number[17]}，按前 17 位应为 {expected}，"
                             "请核对号码")


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
    _check_digit("id_number", id_number)
    _check_digit("q", q)
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


_HOUSEHOLD_COLUMNS = [Column("户编号", 16), Column("户主", 10), Column("户主身份证号", 22),
                      Column("所在区划", 28), Column("家庭人数", 10), Column("救助类别", 14),
                      Column("户籍性质", 10)]
_HOUSEHOLD_FILTERS = {"q": "关键词", "name": "姓名", "id_number": "身份证号", "region": "区划",
                      "tier": "救助类别"}


def _shown(term: str | None) -> str | None:
    """A search term as the audit row and the sheet may show it: a whole id number masked."""
    number = identity.normalize(term or "")
    return identity.mask_id_number(number) if len(number) == 18 else term


@router.get("/households/export.xlsx", summary="The household search as Excel 导出家庭查询结果")
def households_export(
    request: Request,
    q: str | None = Query(None), name: str | None = Query(None), id_number: str | None = Query(None),
    region: str | None = Query(None), tier: str | None = Query(None),
    user: CurrentUser = Depends(require("registry.read")),
) -> Response:
    """The search's matches with the same filters, scope and masking as the list, every page of them
    (up to the search's cap of 10,000: more answers 400, narrow the search). Audited as an export."""
    _check_digit("id_number", id_number)
    _check_digit("q", q)
    engine = request.app.state.engine
    items: list[dict] = []
    page = 1
    try:
        while True:
            result = search.search_households(engine, scope=user.region_code, q=q, name=name,
                                              id_number=id_number, region=region, tier=tier, page=page,
                                              page_size=search.MAX_PAGE_SIZE)
            if result.total_capped:
                raise exports.too_many(search.TOTAL_CAP + 1, search.TOTAL_CAP)
            items += result.items
            if len(items) >= result.total or not result.items:
                break
            page += 1
    except search.InvalidQuery as e:
        raise _invalid(e) from None
    except NotFoundError:
        raise errors.out_of_region() from None
    rows = [[i["household_no"], i["head_name"], i["head_id_number"], i["region_name"] or i["region_code"],
             i["members"], i["tier_label"], i["registration_label"]] for i in items]
    used = exports.filters_text({"q": _shown(q), "name": name, "id_number": _shown(id_number),
                                 "region": region, "tier": tier and model.TIER_LABELS.get(tier, tier)},
                                _HOUSEHOLD_FILTERS)
    data = exports.workbook("家庭查询结果", _HOUSEHOLD_COLUMNS, rows, user=user, filters=used,
                            now=now(request))
    return exports.answer(engine, data, user=user, object_type="household_search", rows=len(rows),
                          fields=["household_no", "head_name", "head_id_number", "region", "members", "tier",
                                  "registration"], filename="家庭查询结果.xlsx", filters=used)


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
