"""Working-day calendar endpoints (工作日历): the years held, one year's holidays and adjusted working
days (any signed-in user: deadlines are counted on them), and adding or correcting a year from the
State Council's notice (`calendar.admin`; audited in the transaction of the write)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from safetynet.auth.deps import CurrentUser, require
from safetynet.auth.errors import ApiError
from safetynet.workdays import model, service
from safetynet.workdays.model import CalendarGapError, CalendarInputError, CalendarYearExistsError

router = APIRouter(prefix="/calendar", tags=["calendar 工作日历"])

_YEAR = Path(..., ge=model.YEAR_MIN, le=model.YEAR_MAX, description="e.g. 2027")


class DayIn(BaseModel):
    date: dt.date = Field(description="YYYY-MM-DD")
    name: str = Field(max_length=model.NAME_MAX, description="the festival as the notice names it, e.g. 春节")


class YearIn(BaseModel):
    holidays: list[DayIn] = Field(max_length=366,
                                  description="weekdays off (a weekend off need not be listed)")
    workdays: list[DayIn] = Field(default_factory=list, max_length=366,
                                  description="weekend days worked (调休上班)")
    note: str = Field(min_length=1, max_length=500,
                      description="the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知")
    replace: bool = Field(False, description="replace the year if the calendar holds it already")


def _unknown(e: CalendarGapError) -> ApiError:
    return ApiError(404, "not_found", str(e), e.message_zh, "year")


@router.get("/years", summary="The years the working-day calendar holds 工作日历年份")
def years(request: Request, user: CurrentUser = Depends(require())) -> JSONResponse:
    """Every year held (oldest first; a few dozen, so not paged): source (chinese_calendar or admin),
    the notice, who added it and when, counts of weekday holidays and adjusted working days. A year
    not listed is unknown: deadlines that reach into it cannot be counted until it is added."""
    with request.app.state.engine.connect() as conn:
        items = service.years_view(conn)
    return JSONResponse({"items": items, "total": len(items),
                         "kind_labels": {k.value: v for k, v in model.KIND_LABELS.items()}})


@router.get("/{year}", summary="One year's holidays and adjusted working days 年度节假日安排")
def year(request: Request, year: int = _YEAR, user: CurrentUser = Depends(require())) -> JSONResponse:
    """The year's exceptions to Monday–Friday by date (kind holiday: a weekday off; workday: a weekend
    day worked), with the count of working days in the year. A year not held: 404 saying how to add
    it."""
    with request.app.state.engine.connect() as conn:
        try:
            return JSONResponse(service.year_view(conn, year))
        except CalendarGapError as e:
            raise _unknown(e) from None


@router.put("/{year}", summary="Add or correct a year from the State Council notice 录入年度节假日安排")
def put_year(body: YearIn, request: Request, year: int = _YEAR,
             user: CurrentUser = Depends(require("calendar.admin"))) -> JSONResponse:
    """The whole year at once: its weekday holidays and weekend working days, each with its name, and
    the notice. A year already held is replaced only with `replace: true` (else 409). Faults: 422
    naming the field, e.g. `holidays[2].date`."""
    try:
        view = service.add_year(request.app.state.engine, year=year,
                                holidays=[(d.date, d.name) for d in body.holidays],
                                workdays=[(d.date, d.name) for d in body.workdays],
                                actor=user, note=body.note, replace=body.replace)
    except CalendarInputError as e:
        raise ApiError(422, "invalid", str(e), e.message_zh, e.field) from None
    except CalendarYearExistsError as e:
        raise ApiError(409, "conflict", str(e), e.message_zh, "replace") from None
    return JSONResponse(view)
