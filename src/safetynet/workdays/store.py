"""Tables of the working-day calendar: the years whose schedule is known, and each year's exceptions
(a holiday on a weekday, an adjusted working weekend day). A day of a year missing from
`calendar_years` is unknown, whatever `calendar_days` holds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from safetynet.db import metadata
from safetynet.workdays.model import CalendarDay

calendar_years = Table(
    "calendar_years", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("source", String(32), nullable=False),  # chinese_calendar | admin
    Column("note", Text),  # the notice it was taken from
    Column("added_by", String(128), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

calendar_days = Table(
    "calendar_days", metadata,
    Column("day", Date, primary_key=True),
    Column("year", Integer, ForeignKey("calendar_years.year"), nullable=False),
    Column("is_workday", Boolean, nullable=False),
    Column("name", String(64), nullable=False),
    # a year's exceptions in one range read
    Index("ix_calendar_days_year", "year", "day"),
)


def year_row(conn: Connection, year: int) -> dict | None:
    row = conn.execute(select(calendar_years).where(calendar_years.c.year == year)).first()
    return dict(row._mapping) if row else None


def year_rows(conn: Connection) -> list[dict]:
    """Every known year with its counts of holidays and adjusted working days, oldest first."""
    holidays = func.sum(case((calendar_days.c.is_workday, 0), else_=1))
    workdays = func.sum(case((calendar_days.c.is_workday, 1), else_=0))
    counts = (select(calendar_days.c.year, holidays.label("holidays"), workdays.label("workdays"))
              .group_by(calendar_days.c.year).subquery())
    q = (select(calendar_years, counts.c.holidays, counts.c.workdays)
         .outerjoin(counts, counts.c.year == calendar_years.c.year).order_by(calendar_years.c.year))
    return [dict(r._mapping) for r in conn.execute(q)]


def known_years(conn: Connection) -> list[int]:
    return list(conn.execute(select(calendar_years.c.year).order_by(calendar_years.c.year)).scalars())


def days_of(conn: Connection, year: int) -> list[CalendarDay]:
    rows = conn.execute(select(calendar_days.c.day, calendar_days.c.is_workday, calendar_days.c.name)
                        .where(calendar_days.c.year == year).order_by(calendar_days.c.day))
    return [CalendarDay(r.day, bool(r.is_workday), r.name) for r in rows]


def write_year(conn: Connection, *, year: int, days: list[CalendarDay], source: str, note: str | None,
               added_by: str, added_at: dt.datetime, replace: bool) -> None:
    """Insert the year (or, with `replace`, put its schedule in place of the stored one)."""
    row = {"source": source, "note": note, "added_by": added_by, "added_at": added_at}
    if replace:
        conn.execute(delete(calendar_days).where(calendar_days.c.year == year))
        conn.execute(update(calendar_years).where(calendar_years.c.year == year).values(**row))
    else:
        conn.execute(insert(calendar_years).values(year=year, **row))
    if days:
        conn.execute(insert(calendar_days), [{"day": d.day, "year": year, "is_workday": d.is_workday,
                                              "name": d.name} for d in days])
