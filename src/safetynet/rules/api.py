"""`POST /assess` (mounted under /api/v1): the JSON contract of docs/contracts/assess.md;
`POST /counterfactual`: the same body, answered by rules/counterfactual.py.

Invalid input answers HTTP 422 with the shared error body (api/errors.py), where
`field` is the path of the first bad field (`members[0].income_monthly.wage`) and `message`
names every problem. The body is read and validated by the rules model, not by FastAPI, so
unknown fields are refused and the error shape is the platform's own.

A standards lookup (region, registration, as_of → local_policy-shaped mapping or None) is
used when the application provides one as `app.state.standards_lookup`."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from safetynet.api.errors import invalid
from safetynet.rules import counterfactual as counterfactual_module
from safetynet.rules import service
from safetynet.rules.model import AssessInputError

router = APIRouter(tags=["rules 规则"])

_EXAMPLE = {
    "as_of": "2025-07-01", "region": "370402001001", "registration": "urban",
    "local_policy": {"dibao_standard": 941, "extremely_poor_basic_standard": 1255,
                     "care_standard": {"self_care": 100, "partial": 300, "full": 600}},
    "members": [{"id": "p1", "birth_date": "1950-03-01", "relation": "head",
                 "disability": {"category": "intellectual", "grade": 3}, "self_care_items_failed": 0,
                 "income_monthly": {"wage": 0}, "supporter": "none"}],
    "assets": {"deposits": 0, "homes": 1, "cars": [], "business_capital": 0},
}
_ERROR = {"description": "Invalid input: the field path and what valid input looks like",
          "content": {"application/json": {"example": {
              "code": "invalid", "field": "members[0].income_monthly.wage",
              "message": "members[0].income_monthly.wage: must be a number ≥ 0; got -5"}}}}




@router.post(
    "/assess",
    summary="Assess one household: tiers, monthly amounts and the explanation 分层认定",
    responses={422: _ERROR},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object"}, "example": _EXAMPLE}}}},
)
async def assess(request: Request) -> JSONResponse:
    """The tier of each person and of the household, the monthly amounts and every rule tested
    (docs/contracts/assess.md). 200 whatever the outcome when the input is valid."""
    return await _answer(request, service.assess)


@router.post(
    "/counterfactual",
    summary="The smallest change of income or of the dibao standard that moves the tier 反事实分析",
    responses={422: _ERROR},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object"}, "example": _EXAMPLE}}}},
)
async def counterfactual(request: Request) -> JSONResponse:
    """The baseline assessment and, for counted income up and down and the dibao standard up and
    down, the smallest change (to the fen, up to 100,000 yuan/month) that moves the household's
    tier, with the rules whose outcome changes. Same body and errors as /assess."""
    return await _answer(request, counterfactual_module.counterfactual)


async def _answer(request: Request, use_case: Callable[..., dict]) -> JSONResponse:
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise invalid(f"the body is not valid JSON: {e}", None) from e
    lookup = getattr(request.app.state, "standards_lookup", None)
    try:
        result = await run_in_threadpool(use_case, payload, standards_lookup=lookup)
    except AssessInputError as e:
        raise invalid(str(e), e.field) from e
    return JSONResponse(result)
