"""Use cases of the working-day calendar: seed it from `chinese_calendar`, add a year from a notice,
count working days and deadlines on it. Writes are one transaction each, audited in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine

from safetynet.audit.service import Actor
from safetynet.audit.service import record as audit_record
from safetynet.db import lock_for_import
from safetynet.workdays import model, store
from safetynet.workdays.model import (
    CalendarDay,
    CalendarGapError,
    CalendarInputError,
    CalendarYearExistsError,
    Problem,
)

SOURCE_PACKAGE = "chinese_calendar"
SOURCE_ADMIN = "admin"
_LOCK = "calendar_years"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor_name(actor: Actor | str) -> str:
    return actor if isinstance(actor, str) else actor.username


# --- the package: seed only ---------------------------------------------------------------------

def package_years() -> list[int]:
    """The years `chinese_calendar` holds a schedule for (it raises outside them)."""
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays}
    return list(range(min(years), max(years) + 1))


def package_note() -> str:
    from importlib.metadata import version

    return f"chinesecalendar {version('chinesecalendar')} (State Council holiday notices)"


def package_schedule(year: int) -> list[CalendarDay]:
    """`year`'s exceptions as the package has them, names in Chinese as the notices give them."""
    import chinese_calendar

    days, day = [], dt.date(year, 1, 1)
    while day.year == year:
        off, name = chinese_calendar.get_holiday_detail(day)
        if off != model.is_weekend(day):  # a weekday off or a weekend worked
            days.append(CalendarDay(day, not off, chinese_calendar.Holiday(name).chinese))
        day += dt.timedelta(days=1)
    return days


def seed_from_package(engine: Engine, *, years: Sequence[int] | None = None,
                      actor: Actor | str = "system:calendar-seed") -> list[int]:
    """Store the package's schedule for each of `years` (default: every year it knows) that the
    calendar does not hold yet; a year already held (perhaps corrected by an administrator) is
    left alone. Returns the years added. Idempotent."""
    supported = package_years()
    wanted = list(supported if years is None else years)
    outside = [y for y in wanted if y not in supported]
    if outside:
        raise CalendarInputError([Problem("years", f"chinese_calendar knows {supported[0]}–{supported[-1]}, "
                                          f"not {', '.join(map(str, outside))}; add other years from the "
                                          f"notice ({model.add_year_hint(outside[0])})",
                                          f"chinese_calendar 只含 {supported[0]}–{supported[-1]} 年，"
                                          "其他年份请按通知补录")])
    added: list[int] = []
    now = _now()
    with engine.begin() as conn:
        lock_for_import(conn, _LOCK)
        known = set(store.known_years(conn))
        note = package_note()
        for year in wanted:
            if year in known:
                continue
            days = package_schedule(year)
            model.check_year(year, [(d.day, d.name) for d in days if not d.is_workday],
                             [(d.day, d.name) for d in days if d.is_workday])
            store.write_year(conn, year=year, days=days, source=SOURCE_PACKAGE, note=note,
                             added_by=_actor_name(actor), added_at=now, replace=False)
            _audit(conn, actor, year, days, note, "seeded from chinese_calendar", now)
            added.append(year)
    return added


def _audit(conn: Connection, actor: Actor | str, year: int, days: list[CalendarDay], note: str | None,
           what: str, at: dt.datetime) -> None:
    holidays = sum(not d.is_workday for d in days)
    audit_record(None, conn=conn, actor=actor, action="write", object_type="calendar_year",
                 object_id=str(year), fields=["holidays", "workdays", "note"], purpose=note, at=at,
                 detail=f"{what}: {holidays} holiday(s) on weekdays, "
                        f"{len(days) - holidays} adjusted workday(s)")


# --- administrators ------------------------------------------------------------------------------

def add_year(engine: Engine, *, year: int, holidays: Sequence[tuple[dt.date, str]],
             workdays: Sequence[tuple[dt.date, str]], actor: Actor | str, note: str,
             replace: bool = False) -> dict:
    """Store `year`'s schedule from the published notice: `holidays` are the weekdays off,
    `workdays` the weekend days worked (调休), each with the festival's name; `note` names the
    notice. A year already held is replaced only with `replace=True`. Returns the year's view."""
    days = model.check_year(year, holidays, workdays)
    note = (note or "").strip()
    if not note:
        raise CalendarInputError([Problem("note", "name the notice the schedule comes from, e.g. "
                                          f"国务院办公厅关于{year}年部分节假日安排的通知",
                                          f"请填写安排来源（如：国务院办公厅关于{year}年部分节假日安排的通知）")])
    now = _now()
    with engine.begin() as conn:
        lock_for_import(conn, _LOCK)
        existing = store.year_row(conn, year)
        if existing and not replace:
            raise CalendarYearExistsError(year, existing["source"], existing["added_by"])
        store.write_year(conn, year=year, days=days, source=SOURCE_ADMIN, note=note,
                         added_by=_actor_name(actor), added_at=now, replace=existing is not None)
        what = f"replaced (was {existing['source']})" if existing else "added"
        _audit(conn, actor, year, days, note, what, now)
        return year_view(conn, year)


# --- reading and counting -------------------------------------------------------------------------

def known_years(conn: Connection) -> list[int]:
    return store.known_years(conn)


def year_lookup(conn: Connection) -> model.YearLookup:
    """A lookup of each year's exceptions that reads the store once per year (and the list of known
    years once), so counting over a long span costs a few queries, not one per day."""
    known: set[int] | None = None
    cache: dict[int, Mapping[dt.date, bool]] = {}

    def lookup(year: int) -> Mapping[dt.date, bool]:
        nonlocal known
        if year not in cache:
            if known is None:
                known = set(store.known_years(conn))
            if year not in known:
                raise CalendarGapError(year)
            cache[year] = {d.day: d.is_workday for d in store.days_of(conn, year)}
        return cache[year]

    return lookup


def working_day_after(conn: Connection, start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (n ≥ 1; `start` itself does not count)."""
    return model.add_working_days(start, n, year_lookup(conn))


def deadline(conn: Connection, start: dt.datetime, *, working_days: int | None = None,
             hours: int | None = None) -> dt.datetime:
    """When something started at `start` falls due, as an aware datetime in Asia/Shanghai.
    `working_days`: 23:59:59 local time of the n-th working day after start's local date.
    `hours`: plain clock hours after `start` (emergency assistance: 24 h, nights and holidays
    included). Exactly one of them. A naive `start` is taken as UTC."""
    if (working_days is None) == (hours is None):
        raise CalendarInputError([Problem("working_days", "give exactly one of working_days and hours",
                                          "工作日天数与小时数须且只能给出一个")])
    if hours is not None:
        model.check_count(hours, "hours")
        return (model.as_utc(start) + dt.timedelta(hours=hours)).astimezone(model.PLATFORM_TZ)
    assert working_days is not None
    return model.end_of_day(working_day_after(conn, model.local_date(start), working_days))


def years_view(conn: Connection) -> list[dict]:
    return [{"year": r["year"], "source": r["source"], "note": r["note"], "added_by": r["added_by"],
             "added_at": model.as_utc(r["added_at"]).isoformat(), "holidays": int(r["holidays"] or 0),
             "workdays": int(r["workdays"] or 0)} for r in store.year_rows(conn)]


def year_view(conn: Connection, year: int) -> dict:
    """A known year's schedule: who added it from which notice, its exceptions by date and its
    counts. CalendarGapError when the year is not held."""
    row = store.year_row(conn, year)
    if row is None:
        raise CalendarGapError(year)
    days = store.days_of(conn, year)
    exceptions = {d.day: d.is_workday for d in days}
    holidays = sum(not d.is_workday for d in days)
    return {"year": year, "source": row["source"], "note": row["note"], "added_by": row["added_by"],
            "added_at": model.as_utc(row["added_at"]).isoformat(), "days": [d.as_dict() for d in days],
            "counts": {"holidays": holidays, "workdays": len(days) - holidays,
                       "working_days": model.working_days_in(year, exceptions)}}
