"""Late-reported events in the monthly monitor run: an event is new in M when it is dated inside M, or
dated before M and its record first delivered in M's extract (a department reporting late: the run of
its own month did not have it). A correction in M of a record delivered before is not news; a feed's
first delivery is its backlog, not late reports; events dated after M wait for their month.

Every event rule is run over one lake delivered in January, February and March 2025, each person one
case, and its firings are read back per month.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safetynet.monitoring.service import run_month
from safetynet.monitoring.warnings import list_warnings
from tests.integration.monitoring_data import CATALOGUE, Feeds, Household, fired, register, run
from tests.integration.test_monitoring_rules import ev, only

MONTHS = ("2025-01", "2025-02", "2025-03")

#: rule id → (feed, the columns of one of its events dated `day` that the rule counts)
EVENTS: dict[str, tuple[str, Callable[[str], dict[str, str]]]] = {
    "new_disability": ("disability", lambda day: {"category": "physical", "grade": "2", "issued_on": day,
                                                  "status": "valid"}),
    "new_unemployment": ("unemployment", lambda day: {"registered_on": day}),
    "education_cost": ("education", lambda day: {"stage": "senior", "school": "枣庄三中", "enrolled_on": day,
                                                 "annual_fees": "3000"}),
    "disaster_loss": ("disaster", lambda day: {"event_type": "洪涝", "occurred_on": day,
                                               "loss_estimate": "1000"}),
    "hotline_help": ("hotline", lambda day: {"received_at": day, "category": "help_request",
                                             "text": "生活困难求助"}),
    "anti_relapse": ("anti_relapse", lambda day: {"type": "unstable", "identified_on": day}),
    "earner_death": ("death", lambda day: {"death_date": day, "source": "殡葬"}),
    "medical_oop_large": ("medical", lambda day: {"settled_on": day, "kind": "inpatient",
                                                  "total_cost": "8000", "out_of_pocket": "6000"}),
}

#: case → (event date, the deliveries carrying its record: the first one, then corrections)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "backlog": ("2024-11-05", ("202501",)),  # in the feed's first delivery: history, not news
    "old": ("2025-01-20", ("202501",)),  # (d) dated and delivered in M−2
    "corrected": ("2025-02-10", ("202502", "202503")),  # (c) delivered in M−1, corrected in M
    "late": ("2025-02-15", ("202503",)),  # (a) dated in M−1, first delivered in M
    "late_by_months": ("2024-12-20", ("202503",)),
    "late_corrected_in_month": ("2025-02-12", ("202503", "202503_02")),  # first delivered and corrected in M
    "on_time": ("2025-03-10", ("202503",)),  # (b) dated and delivered in M
    "after": ("2025-04-02", ("202503",)),  # dated after M
}

#: the cases each month's run warns
EXPECTED = {"2025-01": {"old"}, "2025-02": {"corrected"},
            "2025-03": {"late", "late_by_months", "late_corrected_in_month", "on_time"}}


def _late_lake(engine: Engine, tmp_path: Path) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Each case one person in their own household (its only earner), with one event of every rule's
    feed delivered as the case says. Returns case → id_number and (rule, case) → record_id."""
    households = {case: Household(f"H{i}") for i, case in enumerate(CASES)}
    people = {case: h.add("1980-01-01") for case, h in households.items()}
    register(engine, tmp_path, list(households.values()))
    f = Feeds()
    records = {}
    for case, pid in people.items():
        f.wage(pid, "2024-12", "3000")  # the household's main earner, for earner_death
        day, deliveries = CASES[case]
        for rule, (feed, columns) in EVENTS.items():
            record_id = f"{feed[:3].upper()}-{case}"
            for n, delivered in enumerate(deliveries):
                # a correction: the same record with other content (the name as corrected)
                f.add(feed, pid, delivered, record_id=record_id, name="李四" if n else "张三", **columns(day))
            records[rule, case] = record_id
    f.ingest(engine, tmp_path)
    return people, records


def test_an_event_is_new_in_the_month_it_is_dated_or_first_reported_late(engine: Engine,
                                                                         tmp_path: Path) -> None:
    people, records = _late_lake(engine, tmp_path)
    case_of = {pid: case for case, pid in people.items()}
    catalogue = only(CATALOGUE, *EVENTS)
    got = {}
    for month in MONTHS:
        run(engine, tmp_path, month=month, catalogue=catalogue)
        got[month] = {rule: {case_of[pid] for pid in fired(engine, rule, month)} for rule in EVENTS}
    assert got == {month: dict.fromkeys(EVENTS, cases) for month, cases in EXPECTED.items()}
    # the evidence names the record and the month of its event, not of its delivery
    for rule, (feed, _) in EVENTS.items():
        late = fired(engine, rule, "2025-03")[people["late"]]
        assert late["evidence"] == [ev(feed, records[rule, "late"], "2025-02")], rule
        assert late["month"] == "2025-03"


def test_a_late_certificate_is_not_a_certificate_known_before(engine: Engine, tmp_path: Path) -> None:
    """new_disability warns a person without a valid certificate known before: one reported late in
    the month does not count as known, one delivered before does."""
    h = Household("H1")
    known, unknown = h.add("1960-01-01"), h.add("1961-01-01")
    register(engine, tmp_path, [h])
    f = Feeds()
    cert = EVENTS["new_disability"][1]
    f.add("disability", known, "202502", **cert("2020-05-05"))
    f.add("disability", known, "202503", **cert("2025-02-20"))  # late, but a change of grade
    old = f.add("disability", unknown, "202503", **cert("2020-05-05"))  # both late: neither known before
    late = f.add("disability", unknown, "202503", **cert("2025-02-20"))
    f.add("disability", unknown, "202503", **{**cert("2025-04-01"), "grade": "1"})  # after the month
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, month="2025-03", catalogue=only(CATALOGUE, "new_disability"))
    warned = fired(engine, "new_disability", "2025-03")
    assert set(warned) == {unknown}
    assert {e["record_id"] for e in warned[unknown]["evidence"]} == {late, old}


def test_duckdb_and_spark_agree_on_late_events(engine: Engine, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported-now marks (two reads of a feed, the corrected records' earliest delivery) are the
    same Ibis expressions on Spark: its run over DuckDB's month leaves every warning unchanged."""
    pytest.importorskip("pyspark", reason="the spark extra is part of the dev environment (pyproject)")
    monkeypatch.setenv("SAFETYNET_SPARK_PARTITIONS", "2")
    people, _ = _late_lake(engine, tmp_path)
    catalogue = only(CATALOGUE, *EVENTS)
    duck = run(engine, tmp_path, month="2025-03", catalogue=catalogue)
    before = list_warnings(engine, month="2025-03", page_size=None)["items"]
    assert {w["id_number"] for w in before} == {people[c] for c in EXPECTED["2025-03"]}
    spark = run_month(engine, month="2025-03", lake_dir=tmp_path / "lake", actor="test", backend="spark",
                      catalogue=catalogue)
    assert spark["recorded"] == {"created": 0, "updated": 0, "unchanged": duck["warnings"]}
    assert list_warnings(engine, month="2025-03", page_size=None)["items"] == before
