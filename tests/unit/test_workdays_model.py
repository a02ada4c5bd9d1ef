"""The working-day calendar's pure rules (workdays.model): which days are worked under a year's
schedule, counting n working days (over the Spring Festival, a year boundary, into an unknown year),
deadline instants in Asia/Shanghai and the checks on a schedule typed from a notice. 2026 as
chinese_calendar has it (the State Council notice for 2026)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from safetynet.workdays import model
from safetynet.workdays.model import CalendarGapError, CalendarInputError, add_working_days, is_workday
from safetynet.workdays.service import package_schedule, package_years

D = dt.date


def _exceptions(days: list[model.CalendarDay]) -> dict[dt.date, bool]:
    return {d.day: d.is_workday for d in days}


@pytest.fixture(scope="module")
def y2026() -> dict[dt.date, bool]:
    return _exceptions(package_schedule(2026))


# an administrator's 2027 (illustrative dates, not the real notice): New Year's Day on a Friday,
# a working Saturday before the Spring Festival
Y2027 = {D(2027, 1, 1): False, D(2027, 2, 8): False, D(2027, 2, 9): False, D(2027, 2, 6): True}


def lookup_of(years: dict[int, dict[dt.date, bool]], calls: list[int] | None = None) -> model.YearLookup:
    def lookup(year: int) -> dict[dt.date, bool]:
        if calls is not None:
            calls.append(year)
        if year not in years:
            raise CalendarGapError(year)
        return years[year]
    return lookup


def test_package_covers_2004_to_2026_and_refuses_2027() -> None:
    assert package_years() == list(range(2004, 2027))
    with pytest.raises(NotImplementedError):  # why the store, not the package, answers
        chinese_calendar.is_workday(D(2027, 1, 4))


def test_2026_schedule_spring_festival_national_day_and_adjusted_sundays(y2026) -> None:  # noqa: ANN001
    days = {d.day: d for d in package_schedule(2026)}
    # Spring Festival: 15–23 Feb off; the weekdays among them are the stored exceptions
    assert [d for d in days if d.month == 2 and not days[d].is_workday] == [
        D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20), D(2026, 2, 23)]
    assert days[D(2026, 2, 16)].name == "春节"
    assert days[D(2026, 10, 1)].name == "国庆节" and not is_workday(D(2026, 10, 1), y2026)
    assert not is_workday(D(2026, 10, 7), y2026)
    # adjusted working weekends (调休): Sunday 4 Jan, Saturday 14 Feb, Sunday 20 Sep, Saturday 10 Oct
    for day in (D(2026, 1, 4), D(2026, 2, 14), D(2026, 9, 20), D(2026, 10, 10)):
        assert model.is_weekend(day) and is_workday(day, y2026), day
        assert days[day].kind == model.DayKind.workday
    assert D(2026, 1, 4).isoweekday() == 7
    # ordinary days follow the weekday
    assert is_workday(D(2026, 3, 4), y2026) and not is_workday(D(2026, 3, 7), y2026)
    # the stored exceptions agree with the package on every day of the year
    day = D(2026, 1, 1)
    while day.year == 2026:
        assert is_workday(day, y2026) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_counting_over_the_spring_festival(y2026) -> None:  # noqa: ANN001
    lookup = lookup_of({2026: y2026})
    friday = D(2026, 2, 13)
    assert add_working_days(friday, 1, lookup) == D(2026, 2, 14)  # the working Saturday
    assert add_working_days(friday, 2, lookup) == D(2026, 2, 24)  # after the whole holiday block
    # National Day: a warning on 30 September with 5 working days is due 13 October
    # (8, 9, the working Saturday 10, 12, 13)
    assert add_working_days(D(2026, 9, 30), 5, lookup) == D(2026, 10, 13)
    # the start day never counts, worked or not
    assert add_working_days(D(2026, 3, 4), 1, lookup) == D(2026, 3, 5)


def test_counting_across_the_year_into_an_added_2027_asks_each_year_once(y2026) -> None:  # noqa: ANN001
    calls: list[int] = []
    lookup = lookup_of({2026: y2026, 2027: Y2027}, calls)
    # 31 Dec (Thu) is 1; 1 Jan 2027 (Fri) is a holiday; the weekend; Monday 4 Jan is 2
    assert add_working_days(D(2026, 12, 30), 2, lookup) == D(2027, 1, 4)
    assert add_working_days(D(2027, 2, 5), 1, lookup) == D(2027, 2, 6)  # the working Saturday
    assert add_working_days(D(2027, 2, 6), 1, lookup) == D(2027, 2, 10)  # 8 and 9 off
    calls.clear()
    add_working_days(D(2026, 1, 1), 400, lookup)
    assert calls == [2026, 2027]


def test_counting_into_an_unknown_year_names_the_year_and_how_to_add_it(y2026) -> None:  # noqa: ANN001
    lookup = lookup_of({2026: y2026, 2027: Y2027})
    with pytest.raises(CalendarGapError) as e:
        add_working_days(D(2027, 12, 28), 5, lookup)
    assert e.value.year == 2028
    assert "2028" in str(e.value) and "safetynet calendar add-year --year 2028" in str(e.value)
    assert "2028 年" in e.value.message_zh
    # a count that ends before the gap needs nothing from it
    assert add_working_days(D(2027, 12, 28), 3, lookup) == D(2027, 12, 31)


@pytest.mark.parametrize("n", [0, -1, True, 1.5])
def test_a_count_must_be_a_whole_number_of_at_least_one(n, y2026) -> None:  # noqa: ANN001
    with pytest.raises(CalendarInputError) as e:
        add_working_days(D(2026, 3, 4), n, lookup_of({2026: y2026}))
    assert e.value.field == "working_days"


def test_deadline_instants_are_beijing_time() -> None:
    # 17:00 UTC on 30 September is already 1 October in Beijing
    assert model.local_date(dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)) == D(2026, 10, 1)
    assert model.local_date(dt.datetime(2026, 9, 30, 15, 59)) == D(2026, 9, 30)  # naive = UTC
    end = model.end_of_day(D(2026, 10, 13))
    assert end.isoformat() == "2026-10-13T23:59:59+08:00"
    assert end.astimezone(dt.UTC) == dt.datetime(2026, 10, 13, 15, 59, 59, tzinfo=dt.UTC)


def test_working_days_in_2026(y2026) -> None:  # noqa: ANN001
    weekdays = sum(D(2026, 1, 1) + dt.timedelta(days=i) < D(2027, 1, 1) and
                   (D(2026, 1, 1) + dt.timedelta(days=i)).weekday() < 5 for i in range(365))
    holidays = sum(not v for v in y2026.values())
    worked = sum(y2026.values())
    assert model.working_days_in(2026, y2026) == weekdays - holidays + worked == 248


# --- checks on a schedule typed from a notice -------------------------------------------------------

GOOD_H = [(D(2027, 1, 1), "元旦"), (D(2027, 2, 8), "春节")]
GOOD_W = [(D(2027, 2, 6), "春节")]


def test_a_good_schedule_is_taken_sorted() -> None:
    days = model.check_year(2027, GOOD_H, GOOD_W)
    assert [(d.day, d.is_workday, d.name) for d in days] == [
        (D(2027, 1, 1), False, "元旦"), (D(2027, 2, 6), True, "春节"), (D(2027, 2, 8), False, "春节")]


@pytest.mark.parametrize(("holidays", "workdays", "field", "words"), [
    ([(D(2027, 1, 2), "元旦"), *GOOD_H], GOOD_W, "holidays[0].date", "is a Saturday"),
    (GOOD_H, [(D(2027, 2, 5), "春节")], "workdays[0].date", "must be a Saturday or Sunday"),
    ([(D(2026, 12, 31), "元旦"), *GOOD_H], GOOD_W, "holidays[0].date", "is not in 2027"),
    ([*GOOD_H, (D(2027, 1, 1), "元旦")], GOOD_W, "holidays[2].date", "listed twice (also holidays[0])"),
    ([(D(2027, 2, 8), " ")], GOOD_W, "holidays[0].name", "give the holiday's name"),
    ([(D(2027, 2, 8), "春" * 65)], GOOD_W, "holidays[0].name", "at most 64"),
    ([], GOOD_W, "holidays", "no holiday on a weekday"),
])
def test_schedule_faults_name_the_field(holidays, workdays, field, words) -> None:  # noqa: ANN001
    with pytest.raises(CalendarInputError) as e:
        model.check_year(2027, holidays, workdays)
    assert [p.field for p in e.value.problems] == [field]
    assert words in e.value.problems[0].message
    assert e.value.problems[0].message_zh  # and in Chinese


def test_every_fault_is_reported_at_once_and_the_year_is_bounded() -> None:
    with pytest.raises(CalendarInputError) as e:
        model.check_year(2027, [(D(2027, 1, 2), ""), (D(2028, 1, 3), "元旦")], [(D(2027, 1, 4), "x")])
    assert [p.field for p in e.value.problems] == ["holidays[0].date", "holidays[0].name",
                                                  "holidays[1].date", "workdays[0].date"]
    with pytest.raises(CalendarInputError) as e:
        model.check_year(20277, GOOD_H, GOOD_W)
    assert e.value.field == "year" and "1996 to 2100" in str(e.value)
