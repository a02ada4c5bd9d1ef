"""The working-day calendar in the store (issue 7 part 2): seeding from chinese_calendar (idempotent,
never over an administrator's correction), adding 2027 from a notice, counting working days and
deadlines over holidays and into 2027, the clear error for an unknown 2028, the few queries a long
count costs, the CLI and the API round trips. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from safetynet.audit.store import audit_log
from safetynet.workdays import service
from safetynet.workdays.model import CalendarGapError, CalendarInputError, CalendarYearExistsError

D = dt.date
NOTICE_2027 = "国务院办公厅关于2027年部分节假日安排的通知（测试用，日期为示例）"
# an illustrative 2027 (not the real notice): New Year's Day on a Friday, the Spring Festival with
# a working Saturday before it
H2027 = [(D(2027, 1, 1), "元旦"), (D(2027, 2, 8), "春节"), (D(2027, 2, 9), "春节"), (D(2027, 2, 10), "春节")]
W2027 = [(D(2027, 2, 6), "春节")]


def _calendar_audits(engine) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(audit_log)
                         .where(audit_log.c.object_type == "calendar_year")).scalar_one()


@pytest.fixture
def seeded(engine):  # noqa: ANN001
    service.seed_from_package(engine, actor="test")
    return engine


def test_seed_is_idempotent_and_audited(engine) -> None:  # noqa: ANN001
    first = service.seed_from_package(engine, actor="test")
    audits = _calendar_audits(engine)
    # the first seed of this database (empty when bootstrap seeds it already)
    assert first in ([], list(range(2004, 2027)))
    assert audits >= 23
    assert service.seed_from_package(engine, actor="test") == []
    assert _calendar_audits(engine) == audits  # nothing written, nothing audited
    with engine.connect() as c:
        assert service.known_years(c) == list(range(2004, 2027))
        view = service.year_view(c, 2026)
    assert view["source"] == "chinese_calendar" and "chinesecalendar" in view["note"]
    assert view["counts"] == {"holidays": 19, "workdays": 6, "working_days": 248}


def test_seeding_only_some_years_and_refusing_years_the_package_lacks(engine) -> None:  # noqa: ANN001
    with pytest.raises(CalendarInputError) as e:
        service.seed_from_package(engine, years=[2026, 2027], actor="test")
    assert e.value.field == "years" and "2004–2026" in str(e.value) and "2027" in str(e.value)


def test_counting_on_the_store_over_holidays_and_into_an_added_2027(seeded) -> None:  # noqa: ANN001
    with seeded.connect() as c:
        assert service.working_day_after(c, D(2026, 2, 13), 1) == D(2026, 2, 14)  # working Saturday
        assert service.working_day_after(c, D(2026, 2, 13), 2) == D(2026, 2, 24)
        with pytest.raises(CalendarGapError) as e:
            service.working_day_after(c, D(2026, 12, 30), 2)
        assert e.value.year == 2027
    view = service.add_year(seeded, year=2027, holidays=H2027, workdays=W2027, actor="admin1",
                            note=NOTICE_2027)
    assert view["source"] == "admin" and view["added_by"] == "admin1"
    assert [(d["date"], d["kind"]) for d in view["days"]][:2] == [("2027-01-01", "holiday"),
                                                                   ("2027-02-06", "workday")]
    with seeded.connect() as c:
        assert service.working_day_after(c, D(2026, 12, 30), 2) == D(2027, 1, 4)
        assert service.working_day_after(c, D(2027, 2, 5), 2) == D(2027, 2, 11)  # Sat 6, then Thu 11
        with pytest.raises(CalendarGapError) as e:
            service.working_day_after(c, D(2027, 12, 29), 5)
        assert e.value.year == 2028 and "add-year --year 2028" in str(e.value)


def test_deadlines_in_working_days_and_in_hours(seeded) -> None:  # noqa: ANN001
    with seeded.connect() as c:
        # raised 09:00 Beijing time on 30 September: five working days skip National Day
        start = dt.datetime(2026, 9, 30, 1, 0, tzinfo=dt.UTC)
        due = service.deadline(c, start, working_days=5)
        assert due.isoformat() == "2026-10-13T23:59:59+08:00"
        # 17:00 UTC on 30 September is 1 October in Beijing: the count starts from 1 October
        assert service.deadline(c, dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC),
                                working_days=1) == due.replace(day=8)
        # emergency: 24 clock hours, holiday or not
        assert service.deadline(c, start, hours=24) == dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)
        for kwargs in ({}, {"working_days": 5, "hours": 24}):
            with pytest.raises(CalendarInputError):
                service.deadline(c, start, **kwargs)
        with pytest.raises(CalendarInputError) as e:
            service.deadline(c, start, hours=0)
        assert e.value.field == "hours"


def test_a_long_count_reads_each_year_once(seeded) -> None:  # noqa: ANN001
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    with seeded.connect() as c:
        event.listen(seeded, "before_cursor_execute", count)
        try:
            end = service.working_day_after(c, D(2004, 1, 1), 5000)
        finally:
            event.remove(seeded, "before_cursor_execute", count)
    assert end.year == 2024
    assert len(statements) <= 1 + (2024 - 2004 + 1)  # the list of years, then one read per year


def test_add_year_validates_and_replaces_only_when_asked(seeded) -> None:  # noqa: ANN001
    audits = _calendar_audits(seeded)
    with pytest.raises(CalendarInputError) as e:
        service.add_year(seeded, year=2027, holidays=[(D(2027, 1, 2), "元旦"), *H2027],
                         workdays=[(D(2027, 2, 5), "春节")], actor="admin1", note=NOTICE_2027)
    assert [p.field for p in e.value.problems] == ["holidays[0].date", "workdays[0].date"]
    with pytest.raises(CalendarInputError) as e:
        service.add_year(seeded, year=2027, holidays=H2027, workdays=W2027, actor="admin1", note="  ")
    assert e.value.field == "note"
    # replacing a seeded year needs replace=True, and the seed then leaves the correction alone
    corrected = [(D(2026, 2, 16), "春节"), (D(2026, 2, 17), "春节")]
    with pytest.raises(CalendarYearExistsError) as e:
        service.add_year(seeded, year=2026, holidays=corrected, workdays=[], actor="admin1", note="更正")
    assert "replace=true" in str(e.value)
    with seeded.connect() as c:
        assert service.year_view(c, 2026)["source"] == "chinese_calendar"  # nothing written
        assert 2027 not in service.known_years(c)
    assert _calendar_audits(seeded) == audits
    view = service.add_year(seeded, year=2026, holidays=corrected, workdays=[], actor="admin1",
                            note="更正", replace=True)
    assert view["source"] == "admin" and view["counts"]["holidays"] == 2 and view["counts"]["workdays"] == 0
    assert service.seed_from_package(seeded, actor="test") == []
    with seeded.connect() as c:
        assert service.year_view(c, 2026)["counts"]["holidays"] == 2
        row = c.execute(select(audit_log).where(audit_log.c.object_type == "calendar_year",
                                                audit_log.c.object_id == "2026")
                        .order_by(audit_log.c.id.desc())).first()
    assert row.actor == "admin1" and row.action == "write" and row.purpose == "更正"
    assert row.detail.startswith("replaced (was chinese_calendar)")


# --- CLI ------------------------------------------------------------------------------------------

def _cli(*args: str):  # noqa: ANN202
    from safetynet.workdays.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_round_trip(settings_env, engine, tmp_path) -> None:  # noqa: ANN001
    r = _cli("seed", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["added"] in ([], list(range(2004, 2027)))
    assert json.loads(_cli("seed", "--json").output) == {"added": []}

    csv = tmp_path / "holidays-2027.csv"
    csv.write_text("日期,类型,名称\n" + "".join(f"{d},holiday,{n}\n" for d, n in H2027)
                   + "".join(f"{d},上班,{n}\n" for d, n in W2027), encoding="utf-8")
    r = _cli("add-year", "--year", "2027", "--file", str(csv), "--note", NOTICE_2027, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["holidays"] == 4
    r = _cli("show", "--year", "2027", "--json")
    shown = json.loads(r.output)
    assert shown["note"] == NOTICE_2027 and shown["added_by"].startswith("cli")
    assert [d["date"] for d in shown["days"] if d["is_workday"]] == ["2027-02-06"]
    years = json.loads(_cli("show", "--json").output)
    assert years["items"][-1]["year"] == 2027 and years["items"][-1]["source"] == "admin"

    r = _cli("show", "--year", "2028")
    assert r.exit_code == 1 and "add-year --year 2028" in r.output

    # the same year again: refused unless --replace
    r = _cli("add-year", "--year", "2027", "--file", str(csv), "--note", NOTICE_2027, "--json")
    assert r.exit_code == 1 and "replace" in json.loads(r.output)["errors"][0]["reason"]


def test_cli_add_year_from_yaml_and_row_errors(settings_env, engine, tmp_path) -> None:  # noqa: ANN001
    good = tmp_path / "2027.yaml"
    good.write_text("days:\n" + "".join(f"  - {{date: {d}, kind: holiday, name: {n}}}\n" for d, n in H2027)
                    + "  - date: 2027-02-06\n    kind: workday\n    name: 春节\n", encoding="utf-8")
    r = _cli("add-year", "--year", "2027", "--file", str(good), "--note", NOTICE_2027, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"] == {"holidays": 4, "workdays": 1, "working_days": 258}

    bad = tmp_path / "bad.csv"
    # 2028-01-03 is a Monday, 01-02 a Sunday, 01-04 a Tuesday
    bad.write_text("date,kind,name\n2028-01-03,holiday,元旦\n2028-01-02,holiday,元旦\n"
                   "2028-13-01,holiday,春节\n2028-02-04,rest,春节\n2028-01-04,workday,\n"
                   "2028-01-03,holiday,元旦\n", encoding="utf-8")
    r = _cli("add-year", "--year", "2028", "--file", str(bad), "--note", "x", "--json")
    assert r.exit_code == 1
    errors = [(e["line"], e["column"]) for e in json.loads(r.output)["errors"]]
    assert errors == [(3, "date"), (4, "date"), (5, "kind"), (6, "date"), (6, "name"), (7, "date")]
    with engine.connect() as c:
        assert 2028 not in service.known_years(c)


# --- API ------------------------------------------------------------------------------------------

API = "/api/v1/calendar"


@pytest.fixture
def calendar_clients(engine, seeded, monkeypatch):  # noqa: ANN001
    """`client_as` with the calendar router and capability in place. Until the lead wires them
    (auth/model.py: calendar.admin for province_admin; api/app.py: the router) they are added here,
    for this test only."""
    from safetynet.api import app as app_module
    from safetynet.auth import model as auth_model
    from tests.conftest import ClientFactory

    if "calendar.admin" not in auth_model.CAPABILITIES:
        monkeypatch.setitem(auth_model.CAPABILITIES, "calendar.admin",
                            {"zh": "维护工作日历", "en": "Maintain the working-day calendar"})
        province = auth_model.Role.province_admin
        monkeypatch.setitem(auth_model.ROLE_CAPABILITIES, province,
                            auth_model.ROLE_CAPABILITIES[province] | {"calendar.admin"})
    from safetynet.workdays.api import router

    factory = ClientFactory(engine)
    if not any(getattr(r, "path", "").startswith(API) for r in factory.app.routes):
        mount_spa = app_module.mount_spa

        def routers_then_spa(app, *args, **kwargs) -> None:  # noqa: ANN001
            app.include_router(router, prefix="/api/v1")
            mount_spa(app, *args, **kwargs)  # last, as in create_app

        monkeypatch.setattr(app_module, "mount_spa", routers_then_spa)
        factory = ClientFactory(engine)
    return factory


def _body(holidays, workdays, **extra) -> dict:  # noqa: ANN001
    return {"holidays": [{"date": d.isoformat(), "name": n} for d, n in holidays],
            "workdays": [{"date": d.isoformat(), "name": n} for d, n in workdays], "note": NOTICE_2027,
            **extra}


def test_api_round_trip(calendar_clients, seeded) -> None:  # noqa: ANN001
    admin = calendar_clients("province_admin", "37")
    grid = calendar_clients("township_caseworker")

    r = grid.get(f"{API}/years")
    assert r.status_code == 200, r.text
    assert [y["year"] for y in r.json()["items"]] == list(range(2004, 2027))
    r = grid.get(f"{API}/2026")
    assert r.status_code == 200
    day = next(d for d in r.json()["days"] if d["date"] == "2026-01-04")
    assert day == {"date": "2026-01-04", "weekday": 7, "kind": "workday", "is_workday": True,
                   "name": "元旦", "name_en": "New Year's Day"}

    r = grid.get(f"{API}/2027")
    assert r.status_code == 404 and "add-year --year 2027" in r.json()["message"]
    assert "2027 年" in r.json()["message_zh"]

    # reading is for anyone signed in; writing needs calendar.admin
    assert calendar_clients.anonymous().get(f"{API}/years").status_code == 401
    r = grid.put(f"{API}/2027", json=_body(H2027, W2027))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"

    r = admin.put(f"{API}/2027", json=_body([(D(2027, 1, 2), "元旦"), *H2027], W2027))
    assert r.status_code == 422 and r.json()["field"] == "holidays[0].date"
    assert "Saturday" in r.json()["message"] and "周末" in r.json()["message_zh"]
    r = admin.put(f"{API}/2027", json=_body(H2027, W2027, note=""))
    assert r.status_code == 422 and r.json()["field"] == "note"

    r = admin.put(f"{API}/2027", json=_body(H2027, W2027))
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "admin" and r.json()["added_by"] == admin.username
    assert grid.get(f"{API}/2027").json()["counts"] == {"holidays": 4, "workdays": 1, "working_days": 258}

    r = admin.put(f"{API}/2027", json=_body(H2027[:2], []))
    assert r.status_code == 409 and r.json()["field"] == "replace"
    r = admin.put(f"{API}/2027", json=_body(H2027[:2], [], replace=True))
    assert r.status_code == 200 and r.json()["counts"]["holidays"] == 2
    with seeded.connect() as c:
        rows = c.execute(select(audit_log.c.actor, audit_log.c.detail)
                         .where(audit_log.c.object_type == "calendar_year", audit_log.c.object_id == "2027")
                         .order_by(audit_log.c.id)).all()
        assert service.working_day_after(c, D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert [(a, d.split(":")[0]) for a, d in rows] == [(admin.username, "added"),
                                                       (admin.username, "replaced (was admin)")]
