"""Household facts (analytics): hand-made feeds for one household, and a synthetic province."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from safetynet.analytics.adapter import to_assess_inputs
from safetynet.analytics.facts import HOUSEHOLD_COLUMNS, PERSON_COLUMNS
from safetynet.analytics.service import household_facts
from safetynet.feeds import service as feeds_service
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from safetynet.rules.service import assess_many
from tests.factories import VILLAGE, make_id, write_csv, write_register

HEAD = make_id("1970-03-01", 41, sex="M")
SPOUSE = make_id("1972-06-15", 42, sex="F")
COMMON = ["record_id", "id_number", "name"]


def _register(engine: Engine, tmp_path: Path) -> None:
    households = [["H001", VILLAGE, "urban", "光明路1号", "", ""]]
    persons = [["H001", HEAD, "张建国", "M", "1970-03-01", "head", "", "", "", "", ""],
               ["H001", SPOUSE, "李秀英", "F", "1972-06-15", "spouse", "", "", "", "", ""]]
    d = write_register(tmp_path / "reg", households, persons)
    registry_service.import_register(engine, directory=d, as_of=dt.date(2025, 1, 1))


def _ingest(engine: Engine, tmp_path: Path) -> Path:
    d = tmp_path / "feeds"
    write_csv(d / "social_insurance_202510.csv", [*COMMON, "month", "kind", "employer", "amount"], [
        ["SI1", HEAD, "张建国", "2025-10", "wage", "枣庄某厂", "1000"],
        ["SI2", SPOUSE, "李秀英", "2025-10", "wage", "枣庄某店", "500"],
        ["SI3", HEAD, "张建国", "2025-10", "pension", "城乡居民基本养老保险", "180"],
    ])
    # delivered for a later month: not known when the October facts are made
    write_csv(d / "social_insurance_202511.csv", [*COMMON, "month", "kind", "employer", "amount"], [
        ["SI4", HEAD, "张建国", "2025-11", "wage", "枣庄某厂", "9999"]])
    write_csv(d / "vehicle_202510.csv", [*COMMON, "plate", "vehicle_type", "registered_on",
                                         "deregistered_on", "price"], [
        ["V1", HEAD, "张建国", "鲁D12345", "car", "2020-01-01", "", "60000"],
        ["V2", SPOUSE, "李秀英", "鲁D54321", "car", "2018-01-01", "2025-06-01", "50000"],
        ["V3", SPOUSE, "李秀英", "鲁D0000A", "motorcycle", "2019-01-01", "", "3000"],
    ])
    write_csv(d / "medical_202510.csv", [*COMMON, "settled_on", "kind", "total_cost", "fund_paid",
                                         "out_of_pocket"], [
        ["M1", HEAD, "张建国", "2025-03-10", "inpatient", "1000", "900", "100"],
        ["M2", SPOUSE, "李秀英", "2024-12-01", "outpatient", "300", "250", "50"],
        ["M3", SPOUSE, "李秀英", "2025-10-20", "outpatient", "200", "180", ""],  # 200 − 180
        ["M4", HEAD, "张建国", "2024-10-15", "outpatient", "700", "0", "70"],  # before the 12 months
    ])
    write_csv(d / "disability_202510.csv", [*COMMON, "category", "grade", "issued_on", "status"], [
        ["D1", HEAD, "张建国", "physical", "2", "2015-01-01", "valid"],
        ["D2", HEAD, "张建国", "visual", "1", "2016-01-01", "revoked"],
    ])
    reports = feeds_service.ingest(engine, paths=[d], lake_dir=tmp_path / "lake", actor="test")
    assert all(r.status == "loaded" and r.quarantined == 0 for r in reports), [r.as_dict() for r in reports]
    return tmp_path / "lake"


def test_facts_of_one_household(engine: Engine, tmp_path: Path) -> None:
    _register(engine, tmp_path)
    lake = _ingest(engine, tmp_path)
    h, p = household_facts(engine, month="2025-10", lake_dir=lake)
    assert h.column_names == list(HOUSEHOLD_COLUMNS) and p.column_names == list(PERSON_COLUMNS)
    assert (h.num_rows, p.num_rows) == (1, 2)
    row = h.to_pylist()[0]
    assert row["members"] == 2
    assert row["counted_income_month_fen"] == 150000  # wage 1,000 + 500
    assert row["per_capita_income_month_fen"] == row["per_capita_income_avg_fen"] == 75000
    assert row["income_basic_pension_avg_fen"] == 18000  # recorded but not counted
    assert row["excluded_income_avg_fen"] == 18000
    assert (row["car_count"], row["motorcycle_count"], row["vehicle_value_fen"]) == (1, 1, 6300000)
    assert row["expenditure_medical_12m_fen"] == 100_00 + 50_00 + 20_00
    assert row["homes"] == row["deposits_fen"] == row["business_capital_fen"] == 0  # no such feeds
    people = {r["id_number"]: r for r in p.to_pylist()}
    head = people[HEAD]
    assert (head["disability_grade"], head["disability_category"]) == (2, "physical")
    assert head["age"] == 55 and people[SPOUSE]["age"] == 53
    assert head["income_wage_month_fen"] == 100000 and head["income_months_observed"] == 1
    assert people[SPOUSE]["expenditure_medical_month_fen"] == 2000

    households, persons, ids = to_assess_inputs(h, p)
    out = assess_many(as_of=dt.date(2025, 10, 31), households=households, persons=persons)
    assert list(ids) == [row["household_id"]]
    assert out["households"]["per_capita_income"][0] == 750.0
    assert households["car_count"][0] == 1


def test_no_feeds_gives_zeros(engine: Engine, tmp_path: Path) -> None:
    _register(engine, tmp_path)
    h, p = household_facts(engine, month="2025-10", lake_dir=tmp_path / "lake")
    assert (h.num_rows, p.num_rows) == (1, 2)
    row = h.to_pylist()[0]
    assert row["counted_income_avg_fen"] == row["car_count"] == row["expenditure_medical_12m_fen"] == 0
    assert {r["disability_category"] for r in p.to_pylist()} == {"none"}
    # before the register's members joined: the household is there, without members
    h, p = household_facts(engine, month="2024-06", lake_dir=tmp_path / "lake")
    assert (h.num_rows, p.num_rows, h.column("members")[0].as_py()) == (1, 0, 0)


def test_facts_cli_writes_parquet(settings_env: Path, engine: Engine, tmp_path: Path) -> None:
    import typer

    from safetynet.analytics.cli import facts_cli

    _register(engine, tmp_path)
    app = typer.Typer()
    app.command()(facts_cli)
    r = CliRunner().invoke(app, ["2025-10", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "out" / "household_facts_2025-10.parquet").num_rows == 1
    assert "1 households, 2 persons" in r.output
    assert CliRunner().invoke(app, ["2025-13", str(tmp_path / "out")]).exit_code == 2


@pytest.fixture
def province(synthetic_province: Path) -> Path:
    return synthetic_province


def test_synthetic_province(engine: Engine, tmp_path: Path, province: Path) -> None:
    as_of = dt.date(2025, 2, 28)
    registry_service.import_register(engine, directory=province / "registry", as_of=as_of, partial=True)
    feeds_service.ingest(engine, paths=[province / "feeds"], lake_dir=tmp_path / "lake", actor="test")
    h, p = household_facts(engine, month="2025-02", lake_dir=tmp_path / "lake")
    m = registry_store.memberships
    with engine.connect() as c:
        n_households = c.execute(select(func.count()).select_from(registry_store.households)).scalar_one()
        n_persons = c.execute(select(func.count()).select_from(m).where(m.c.valid_to.is_(None))).scalar_one()
    assert (h.num_rows, p.num_rows) == (n_households, n_persons)
    assert h.column("members").to_numpy().sum() == n_persons

    households, persons, ids = to_assess_inputs(h, p)
    out = assess_many(as_of=as_of, households=households, persons=persons)
    registered = np.array(h.column("registered_tier").to_pylist(), dtype=object)[
        h.column("members").to_numpy() > 0]
    tier = out["households"]["household_tier"]
    dibao = registered == "dibao"
    agreement = float((tier[dibao] == "dibao").mean())
    # measured 0.963 (131 of 136) with the rules' dated default standards (seed 1)
    assert dibao.sum() > 50 and agreement >= 0.9, agreement


# --- the register snapshot: ADBC and the SQLAlchemy fallback give the same tables -----------

def _assert_same_snapshots(engine: Engine, on: dt.date) -> tuple:
    from safetynet.analytics.service import HOUSEHOLD_SNAPSHOT, PERSON_SNAPSHOT, registry_snapshot

    fast_h, fast_p = registry_snapshot(engine, on=on, adbc=True)
    rows_h, rows_p = registry_snapshot(engine, on=on, adbc=False)
    assert fast_h.schema == rows_h.schema == HOUSEHOLD_SNAPSHOT
    assert fast_p.schema == rows_p.schema == PERSON_SNAPSHOT
    assert fast_h.equals(rows_h) and fast_p.equals(rows_p)
    return fast_h, fast_p


def test_snapshot_adbc_matches_rows_on_a_province(engine: Engine, province: Path) -> None:
    registry_service.import_register(engine, directory=province / "registry",
                                     as_of=dt.date(2025, 2, 28), partial=True)
    h, p = _assert_same_snapshots(engine, dt.date(2025, 2, 28))
    assert p.num_rows > 1000 and h.num_rows > 500
    assert p.column("registered_tier").null_count < p.num_rows and p.column("birth_date").null_count == 0
    # before the import: households listed, nobody a member yet (an empty person table)
    h, p = _assert_same_snapshots(engine, dt.date(2024, 1, 1))
    assert p.num_rows == 0 and h.num_rows > 500


def test_snapshot_adbc_late_first_value(engine: Engine, tmp_path: Path) -> None:
    # SQLite's ADBC driver types columns from what it has seen: the tier columns are NULL for
    # the first 1,200 rows here and a string after (the driver's default batch is 1,024).
    n = 1201
    births = [str(dt.date(1950, 1, 1) + dt.timedelta(days=i)) for i in range(n)]
    households = [[f"H{i:05d}", VILLAGE, "rural", "", "", ""] for i in range(n)]
    persons = [[f"H{i:05d}", make_id(b, 1, sex="M"), "王某", "M", b, "head", "", "", "", "", ""]
               for i, b in enumerate(births)]
    persons[-1][6:8] = ["dibao", "2024-05-01"]
    persons[-1][10] = "500.00"
    d = write_register(tmp_path / "reg", households, persons)
    report = registry_service.import_register(engine, directory=d, as_of=dt.date(2025, 1, 1))
    assert not report.errors
    h, p = _assert_same_snapshots(engine, dt.date(2025, 1, 31))
    assert p.column("registered_tier").to_pylist() == [None] * (n - 1) + ["dibao"]
    assert h.column("registered_tier").to_pylist()[-1] == "dibao"


def test_fetch_arrow_reports_the_database_error(engine: Engine) -> None:
    from safetynet.db import adbc_supported, fetch_arrow, make_engine

    assert adbc_supported(engine)
    assert not adbc_supported(make_engine("sqlite://"))  # in memory: only this process sees it
    with pytest.raises(Exception, match="no_such_table"):
        fetch_arrow(engine, "SELECT * FROM no_such_table")
    with pytest.raises(ValueError, match="no ADBC path"):
        fetch_arrow(make_engine("sqlite://"), "SELECT 1")


def test_fetch_arrow_sqlite_path_with_uri_characters(tmp_path: Path) -> None:
    import sqlite3

    from safetynet.db import fetch_arrow, make_engine

    path = tmp_path / "a #1 100%.sqlite3"  # the child opens the file by URI: these must be escaped
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE t (n INTEGER, s TEXT)")
        c.execute("INSERT INTO t VALUES (1, '甲'), (2, NULL)")
    t = fetch_arrow(make_engine(f"sqlite:///{path}"), "SELECT n, s FROM t ORDER BY n")
    assert t.to_pydict() == {"n": [1, 2], "s": ["甲", None]}
