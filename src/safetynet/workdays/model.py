"""Working days, as plain data and pure functions (no store, no I/O).

A year's schedule is the set of its exceptions to "Monday to Friday": a holiday on a weekday
(is_workday false) and an adjusted working weekend day, 调休 (is_workday true). Every other day
follows its weekday. A year without a schedule is unknown: counting into it raises
`CalendarGapError`, never a guess, because a deadline counted over an unannounced Spring Festival
would fall due while the offices are closed.

Deadlines are in the platform's time zone, Asia/Shanghai: the holiday notices are national and in
Beijing time, and a township office closes by its local clock whatever zone the server runs in.
"n working days after a day" ends at 23:59:59 local time of the n-th working day after it (the
day itself does not count: a warning raised on Monday with 5 working days is due next Monday,
end of day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from safetynet.errors import SafetynetError

PLATFORM_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = dt.time(23, 59, 59)
# The five-day week (Saturday and Sunday off) began 1995-05-01 (国务院令第174号): before 1996 a
# year's "weekdays" were not Monday to Friday, so its schedule cannot be held this way.
YEAR_MIN = 1996
YEAR_MAX = 2100  # a typo guard (20277), not a policy
NAME_MAX = 64


def add_year_hint(year: int) -> str:
    return (f"safetynet calendar add-year --year {year} --file holidays-{year}.csv "
            f"(or PUT /api/v1/calendar/{year})")


class DayKind(StrEnum):
    holiday = "holiday"  # a weekday off
    workday = "workday"  # a weekend day worked (调休)


KIND_LABELS: dict[str, dict[str, str]] = {
    DayKind.holiday: {"zh": "放假", "en": "Holiday"},
    DayKind.workday: {"zh": "调休上班", "en": "Adjusted working day"},
}

# English names of the festivals as the notices name them (the names are stored in Chinese, as
# published); chinese_calendar's short forms (清明, 端午, 中秋) included.
HOLIDAY_NAMES_EN: dict[str, str] = {
    "元旦": "New Year's Day", "春节": "Spring Festival", "清明": "Tomb-sweeping Day",
    "清明节": "Tomb-sweeping Day", "劳动节": "Labour Day", "端午": "Dragon Boat Festival",
    "端午节": "Dragon Boat Festival", "中秋": "Mid-autumn Festival", "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day", "中秋节、国庆节": "Mid-autumn Festival and National Day",
}


@dataclass(frozen=True)
class CalendarDay:
    """One exception of a year's schedule."""

    day: dt.date
    is_workday: bool
    name: str

    @property
    def kind(self) -> DayKind:
        return DayKind.workday if self.is_workday else DayKind.holiday

    def as_dict(self) -> dict:
        return {"date": self.day.isoformat(), "weekday": self.day.isoweekday(), "kind": self.kind.value,
                "is_workday": self.is_workday, "name": self.name,
                "name_en": HOLIDAY_NAMES_EN.get(self.name)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a schedule: the input field at fault, in English and Chinese."""

    field: str
    message: str
    message_zh: str


class CalendarInputError(SafetynetError):
    """A schedule (or a count of days) that cannot be taken; `problems` name every fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.field = problems[0].field if problems else None
        shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:20])
        more = f"; … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(shown + more)

    @property
    def message_zh(self) -> str:
        # each message names its date; the field stays in `field` (the page marks the row)
        return "；".join(p.message_zh for p in self.problems[:20])


class CalendarGapError(SafetynetError):
    """A count of working days needs a year the calendar does not hold."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.field = "year"
        super().__init__(
            f"the working-day calendar has no holiday schedule for {year}; add the State Council's "
            f"notice for {year} (its holidays and adjusted working days) with {add_year_hint(year)}")

    @property
    def message_zh(self) -> str:
        return (f"工作日历中没有 {self.year} 年的节假日安排，请按国务院办公厅发布的 {self.year} 年"
                f"节假日安排通知，在“工作日历”页面补录放假日期和调休上班日期（或用命令 safetynet calendar "
                f"add-year --year {self.year} --file holidays-{self.year}.csv）")


class CalendarYearExistsError(SafetynetError):
    """Adding a year the calendar already holds, without asking to replace it."""

    def __init__(self, year: int, source: str, added_by: str) -> None:
        self.year = year
        self.field = "year"
        super().__init__(f"{year} is already in the working-day calendar (source {source}, added by "
                         f"{added_by}); to correct it send the whole year again with replace=true "
                         f"(CLI: --replace)")

    @property
    def message_zh(self) -> str:
        return f"工作日历中已有 {self.year} 年的安排；如需更正，请提交全年安排并选择“替换”（replace=true）"


def is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def is_workday(day: dt.date, exceptions: Mapping[dt.date, bool]) -> bool:
    """Whether `day` is worked, given its year's exceptions (day → is_workday)."""
    return exceptions.get(day, not is_weekend(day))


# year → that year's exceptions; raises CalendarGapError for a year the calendar does not hold
YearLookup = Callable[[int], Mapping[dt.date, bool]]


def add_working_days(start: dt.date, n: int, lookup: YearLookup) -> dt.date:
    """The n-th working day after `start` (n ≥ 1; `start` itself does not count). `lookup` is
    asked once per year the count passes through."""
    check_count(n, "working_days")
    years: dict[int, Mapping[dt.date, bool]] = {}
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        if day.year not in years:
            years[day.year] = lookup(day.year)
        if is_workday(day, years[day.year]):
            left -= 1
    return day


def check_count(n: object, field: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CalendarInputError([Problem(field, f"must be a whole number of at least 1, got {n!r}",
                                          f"应为不小于 1 的整数，收到 {n!r}")])


def local_date(at: dt.datetime) -> dt.date:
    """The calendar date of an instant in the platform's time zone (naive instants are UTC, as the
    store gives them back on SQLite)."""
    return as_utc(at).astimezone(PLATFORM_TZ).date()


def as_utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 of `day` in the platform's time zone (an aware datetime)."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=PLATFORM_TZ)


def day_problems(year: int, kind: DayKind, day: dt.date, name: str | None, where: str) -> list[Problem]:
    """What is wrong with one entry of `year`'s schedule (`where` names it, e.g. holidays[2])."""
    out = []
    if day.year != year:
        out.append(Problem(f"{where}.date", f"{day.isoformat()} is not in {year}; every date of the "
                           f"{year} schedule must be in {year}", f"{day.isoformat()} 不在 {year} 年内"))
    weekday = day.strftime("%A")
    if kind == DayKind.holiday and is_weekend(day):
        out.append(Problem(f"{where}.date", f"{day.isoformat()} is a {weekday}: list only holidays that fall "
                           "on a weekday (a weekend is off anyway)",
                           f"{day.isoformat()} 是周末，放假日期只需列出落在工作日（周一至周五）的日期"))
    if kind == DayKind.workday and not is_weekend(day):
        out.append(Problem(f"{where}.date", f"{day.isoformat()} is a {weekday}: an adjusted working day "
                           "(调休上班) must be a Saturday or Sunday",
                           f"{day.isoformat()} 是工作日，调休上班日期应为周六或周日"))
    clean = (name or "").strip()
    if not clean:
        out.append(Problem(f"{where}.name", "give the holiday's name as in the notice, e.g. 春节",
                           "请填写节日名称（与通知一致，如“春节”）"))
    elif len(clean) > NAME_MAX:
        out.append(Problem(f"{where}.name", f"at most {NAME_MAX} characters, got {len(clean)}",
                           f"名称最多 {NAME_MAX} 个字符"))
    return out


def check_year(year: int, holidays: Sequence[tuple[dt.date, str]],
               workdays: Sequence[tuple[dt.date, str]]) -> list[CalendarDay]:
    """A year's schedule as its exceptions, or CalendarInputError naming every fault: each date in
    `year`, holidays on weekdays, adjusted working days on weekends, no date twice, a name each,
    and at least one holiday (every notice has the Spring Festival; none means a wrong file)."""
    problems: list[Problem] = []
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise CalendarInputError([Problem("year", f"must be a year from {YEAR_MIN} to {YEAR_MAX}, "
                                          f"got {year!r}", f"年份应在 {YEAR_MIN} 至 {YEAR_MAX} 之间")])
    days: list[CalendarDay] = []
    seen: dict[dt.date, str] = {}
    for kind, entries, label in ((DayKind.holiday, holidays, "holidays"),
                                 (DayKind.workday, workdays, "workdays")):
        for i, (day, name) in enumerate(entries):
            where = f"{label}[{i}]"
            found = day_problems(year, kind, day, name, where)
            if day in seen:
                found.append(Problem(f"{where}.date", f"{day.isoformat()} is listed twice (also {seen[day]})",
                                     f"{day.isoformat()} 重复出现（另见 {seen[day]}）"))
            else:
                seen[day] = where
            problems.extend(found)
            if not found:
                days.append(CalendarDay(day, kind == DayKind.workday, name.strip()))
    if not holidays:
        problems.append(Problem("holidays", f"the {year} schedule lists no holiday on a weekday; every "
                                "notice has at least the Spring Festival — is this the right file?",
                                f"{year} 年安排中没有落在工作日的放假日期（至少应有春节），请检查文件"))
    if problems:
        raise CalendarInputError(problems)
    return sorted(days, key=lambda d: d.day)


def working_days_in(year: int, exceptions: Mapping[dt.date, bool]) -> int:
    """How many working days `year` has under its schedule."""
    day, n = dt.date(year, 1, 1), 0
    while day.year == year:
        n += is_workday(day, exceptions)
        day += dt.timedelta(days=1)
    return n
