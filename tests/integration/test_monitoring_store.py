"""Warnings store: new vs updated warnings, suppression windows, idempotent re-runs, exact firings,
listing by month and region, the `warnings list` CLI, and one call with 100k candidates."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from safetynet.cli.main import app as safetynet_cli  # the installed command, as a user calls it
from safetynet.monitoring import warnings_cli
from safetynet.monitoring.store import warning_firings, warnings
from safetynet.monitoring.warnings import (
    WarningInputError,
    list_warnings,
    record_warnings,
    start_run,
)

SUPPRESSION = {"income_drop": 3, "medical_oop_large": 6, "asset_car": 12}
PERSON = "370102199001011234"
OTHER = "370202198502023456"


def _candidates(*rows: dict) -> pa.Table:
    base = {"rule": "income_drop", "id_number": PERSON, "person_id": None, "household_id": None,
            "household_no": "H0001", "region_code": "370102001001", "level": "yellow", "need": "income",
            "side": "entry", "value": "-35%", "evidence": json.dumps([{"feed": "wages", "record_id": "r1",
                                                                        "month": "2026-01"}])}
    full = [base | r for r in rows]
    return pa.Table.from_pylist(full, schema=pa.schema([
        ("rule", pa.string()), ("id_number", pa.string()), ("person_id", pa.int64()),
        ("household_id", pa.int64()), ("household_no", pa.string()), ("region_code", pa.string()),
        ("level", pa.string()), ("need", pa.string()), ("side", pa.string()), ("value", pa.string()),
        ("evidence", pa.string())]))


def _run(engine: Engine, month: str) -> int:
    return start_run(engine, month=month, engine_name="duckdb", catalogue_digest="d" * 64, actor="test")


def _record(engine: Engine, month: str, *rows: dict) -> dict:
    return record_warnings(engine, run_id=_run(engine, month), month=month, candidates=_candidates(*rows),
                           suppression=SUPPRESSION)


def _warnings(engine: Engine) -> list[dict]:
    with engine.connect() as c:
        return [dict(r) for r in c.execute(select(warnings).order_by(warnings.c.id)).mappings()]


def _firings(engine: Engine) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(warning_firings.c.warning_id, warning_firings.c.month,
                                                   warning_firings.c.level)
                                            .order_by(warning_firings.c.warning_id, warning_firings.c.month))]


def test_new_warning_and_same_month_again_changes_nothing(engine: Engine) -> None:
    assert _record(engine, "2026-01", {}) == {"created": 1, "updated": 0, "unchanged": 0}
    [w] = _warnings(engine)
    assert (w["rule"], w["month"], w["last_month"], w["level"], w["status"], w["fired_months"]) == (
        "income_drop", "2026-01", "2026-01", "yellow", "new", 1)
    assert w["evidence"] == [{"feed": "wages", "record_id": "r1", "month": "2026-01"}]
    assert w["value"] == "-35%"

    assert _record(engine, "2026-01", {}) == {"created": 0, "updated": 0, "unchanged": 1}
    [again] = _warnings(engine)
    assert again["last_run_id"] > w["last_run_id"] and again["first_run_id"] == w["first_run_id"]
    assert {k: v for k, v in again.items() if k not in ("last_run_id", "updated_at")} == \
        {k: v for k, v in w.items() if k not in ("last_run_id", "updated_at")}
    assert _firings(engine) == [(w["id"], "2026-01", "yellow")]


def test_inside_window_updates_and_escalates(engine: Engine) -> None:
    _record(engine, "2026-01", {})
    ev = json.dumps([{"feed": "wages", "record_id": "r9", "month": "2026-03"}])
    assert _record(engine, "2026-03", {"level": "red", "value": "-60%", "evidence": ev}) == \
        {"created": 0, "updated": 1, "unchanged": 0}
    [w] = _warnings(engine)
    assert (w["month"], w["last_month"], w["level"], w["value"], w["fired_months"]) == (
        "2026-01", "2026-03", "red", "-60%", 2)
    assert w["evidence"][0]["record_id"] == "r9"
    # a lower level later keeps the warning at its highest; the firing keeps the month's own level
    _record(engine, "2026-04", {"level": "blue", "value": "-31%"})
    [w] = _warnings(engine)
    assert (w["level"], w["last_month"], w["value"], w["fired_months"]) == ("red", "2026-04", "-31%", 3)
    assert _firings(engine) == [(w["id"], "2026-01", "yellow"), (w["id"], "2026-03", "red"),
                                (w["id"], "2026-04", "blue")]
    # re-running March (older than last_month) neither duplicates nor rewinds the warning
    assert _record(engine, "2026-03", {"level": "red", "value": "-60%", "evidence": ev})["unchanged"] == 1
    [again] = _warnings(engine)
    assert (again["last_month"], again["value"], again["fired_months"]) == ("2026-04", "-31%", 3)


def test_after_the_window_a_new_warning(engine: Engine) -> None:
    _record(engine, "2026-01", {})
    # window 3 months from the last firing: April is inside, August (4 after April) is not
    assert _record(engine, "2026-04", {})["updated"] == 1
    assert _record(engine, "2026-08", {}) == {"created": 1, "updated": 0, "unchanged": 0}
    ws = _warnings(engine)
    assert [(w["month"], w["last_month"], w["fired_months"]) for w in ws] == [
        ("2026-01", "2026-04", 2), ("2026-08", "2026-08", 1)]
    # another rule for the same person is its own warning, with its own window
    assert _record(engine, "2026-08", {"rule": "asset_car", "side": "exit"})["created"] == 1


def test_closed_warning_gets_a_new_one(engine: Engine) -> None:
    _record(engine, "2026-01", {})
    with engine.begin() as c:
        c.execute(warnings.update().values(status="closed"))
    assert _record(engine, "2026-01", {})["unchanged"] == 1  # the month it was raised: still that warning
    assert _record(engine, "2026-02", {}) == {"created": 1, "updated": 0, "unchanged": 0}
    assert [(w["month"], w["status"]) for w in _warnings(engine)] == [
        ("2026-01", "closed"), ("2026-02", "new")]


def test_firings_per_month_and_listing(engine: Engine) -> None:
    _record(engine, "2026-01", {}, {"id_number": OTHER, "region_code": "370202001001", "level": "orange"})
    _record(engine, "2026-02", {"level": "red"})
    jan = list_warnings(engine, month="2026-01")
    assert jan["total"] == 2 and [r["id_number"] for r in jan["items"]] == [OTHER, PERSON]  # orange first
    feb = list_warnings(engine, month="2026-02")
    assert [(r["id_number"], r["level"], r["month"], r["raised_month"]) for r in feb["items"]] == [
        (PERSON, "red", "2026-02", "2026-01")]
    assert list_warnings(engine, month="2026-01", scope_prefix="3702")["total"] == 1
    assert list_warnings(engine, month="2026-01", scope_prefix="370102")["items"][0]["id_number"] == PERSON
    assert list_warnings(engine, month="2026-01", level="orange")["total"] == 1
    assert list_warnings(engine, month="2026-01", rule="asset_car")["total"] == 0
    assert list_warnings(engine, month="2026-03")["total"] == 0
    page2 = list_warnings(engine, month="2026-01", page=2, page_size=1)
    assert page2["total"] == 2 and [r["id_number"] for r in page2["items"]] == [PERSON]


def test_bad_candidates_are_rejected_whole(engine: Engine) -> None:
    with pytest.raises(WarningInputError, match="level"):
        _record(engine, "2026-01", {}, {"id_number": OTHER, "level": "purple"})
    with pytest.raises(WarningInputError, match="suppression window for rule"):
        _record(engine, "2026-01", {"rule": "hotline_help"})
    with pytest.raises(WarningInputError, match="candidate row 1: evidence is not JSON"):
        _record(engine, "2026-01", {}, {"id_number": OTHER, "evidence": "[{"})
    with pytest.raises(WarningInputError, match="YYYY-MM"):
        list_warnings(engine, month="2026-13")
    assert _warnings(engine) == []


def test_cli_list(settings_env: Path, engine: Engine, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(warnings_cli, "console", Console(width=220))
    _record(engine, "2026-01", {}, {"id_number": OTHER, "region_code": "370202001001",
                                    "household_no": "H0002"})
    [first, second] = _warnings(engine)
    runner = CliRunner()
    res = runner.invoke(safetynet_cli, ["warnings", "list", "--month", "2026-01", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [
        {"warning_id": first["id"], "rule": "income_drop", "month": "2026-01", "level": "yellow",
         "id_number": PERSON, "household_id": "H0001", "status": "new"},
        {"warning_id": second["id"], "rule": "income_drop", "month": "2026-01", "level": "yellow",
         "id_number": OTHER, "household_id": "H0002", "status": "new"}]
    res = runner.invoke(safetynet_cli, ["warnings", "list", "--month", "2026-01", "--region", "3702",
                                        "--json"])
    assert [r["id_number"] for r in json.loads(res.stdout)] == [OTHER]
    res = runner.invoke(safetynet_cli, ["warnings", "list", "--month", "2026-01"])
    assert res.exit_code == 0 and "身份证号" in res.stdout
    assert "370102********1234" in res.stdout and PERSON not in res.stdout
    res = runner.invoke(safetynet_cli, ["warnings", "list", "--month", "2026/01"])
    assert res.exit_code == 2 and "YYYY-MM" in res.output


def test_100k_candidates_in_one_call(engine: Engine) -> None:
    n = 100_000
    ev = json.dumps([{"feed": "medical", "record_id": "m1", "month": "2026-01"}])
    ids = [f"{370000000000000000 + i}" for i in range(n)]
    table = pa.table({"rule": ["medical_oop_large"] * n, "id_number": ids, "person_id": [None] * n,
                      "household_id": [None] * n, "household_no": [f"H{i}" for i in range(n)],
                      "region_code": ["370102001001"] * n, "level": ["yellow"] * n, "need": ["medical"] * n,
                      "side": ["entry"] * n, "value": ["0.62"] * n, "evidence": [ev] * n})
    for month, expected in (("2026-01", {"created": n, "updated": 0, "unchanged": 0}),
                            ("2026-01", {"created": 0, "updated": 0, "unchanged": n}),
                            ("2026-02", {"created": 0, "updated": n, "unchanged": 0})):
        run_id = _run(engine, month)
        t0, c0 = time.perf_counter(), time.process_time()
        counts = record_warnings(engine, run_id=run_id, month=month, candidates=table,
                                 suppression=SUPPRESSION)
        print(  # noqa: T201 - the figure for docs/benchmarks.md (no timing assertion: shared machines)
              f"record_warnings {month} {n:,} candidates ({engine.dialect.name}): "
              f"{time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU (this process)")
        assert counts == expected
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(warnings)).scalar_one() == n
        assert c.execute(select(func.count()).select_from(warning_firings)).scalar_one() == 2 * n
        twice = select(func.count()).select_from(warnings).where(warnings.c.fired_months == 2,
                                                                 warnings.c.last_month == "2026-02")
        assert c.execute(twice).scalar_one() == n


def test_evidence_as_an_arrow_list_column(engine: Engine) -> None:
    evidence = [[{"feed": "disaster", "record_id": "d7", "month": "2026-05"}]]
    table = pa.table({"rule": ["asset_car"], "id_number": [PERSON], "region_code": ["370102001001"],
                      "level": ["orange"], "side": ["exit"], "evidence": evidence})
    counts = record_warnings(engine, run_id=_run(engine, "2026-05"), month="2026-05", candidates=table,
                             suppression=SUPPRESSION)
    assert counts["created"] == 1
    [w] = _warnings(engine)
    assert w["evidence"] == evidence[0] and w["household_no"] is None and w["value"] is None
    [item] = list_warnings(engine, month="2026-05")["items"]
    assert item["evidence"] == evidence[0]
