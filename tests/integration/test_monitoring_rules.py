"""The monitoring engine rule by rule (issue 5 acceptance): for every rule of the catalogue, hand-made
minimal data on each side of its boundary — the threshold and just below it, the first and last day of
the month and the day outside it — then a monthly run, read back through `list_warnings`: who is warned,
at which level, with which value text, region and evidence. Then idempotency, suppression, a bad
catalogue, a crash mid-run and the CLI.

The month under test is March 2025 (window April 2024 – March 2025) unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, update
from typer.testing import CliRunner

from safetynet.monitoring import warnings as warnings_module
from safetynet.monitoring.catalogue import ENV_VAR
from safetynet.monitoring.engine import MonitorCatalogueError
from safetynet.monitoring.indicators import INDICATORS
from safetynet.monitoring.store import monitor_runs, warning_firings, warnings
from safetynet.monitoring.warnings import list_warnings
from safetynet.registry import store as registry_store
from tests.factories import VILLAGE, make_id
from tests.integration.monitoring_data import (
    CATALOGUE,
    MONTH,
    VILLAGE2,
    Feeds,
    Household,
    assessment_run,
    catalogue_with,
    fired,
    household_id,
    person_id,
    person_pk,
    register,
    rule_of,
    run,
)

INFINITE = "∞（无计入收入 no counted income）"


def ev(feed: str, record_id: str, month: str = MONTH) -> dict[str, str]:
    return {"feed": feed, "record_id": record_id, "month": month}


def levels(warned: dict[str, dict]) -> dict[str, str]:
    return {pid: w["level"] for pid, w in warned.items()}


def values(warned: dict[str, dict]) -> dict[str, str | None]:
    return {pid: w["value"] for pid, w in warned.items()}


def only(catalogue, *rule_ids: str):  # noqa: ANN001, ANN201
    """The catalogue restricted to some rules (a quicker run where the other rules are not looked at)."""
    return dataclasses.replace(catalogue, rules=tuple(r for r in catalogue if r.id in rule_ids))


def count_rows(engine: Engine, table) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


# --- medical_oop_large ------------------------------------------------------------------------------

def test_medical_oop_large_levels_at_each_ratio_threshold_and_the_5000_floor(engine: Engine,
                                                                             tmp_path: Path) -> None:
    """Out-of-pocket in March ÷ the household's counted income over 12 months: yellow at 0.3, orange at
    0.5, red at 1.0, nothing a fen below; below 5,000 yuan nothing whatever the ratio."""
    households, cases = [], {}
    # case → (household's 12-month income, out-of-pocket in March); each case its own household
    plan = {"yellow": ("20000", "6000"), "below_yellow": ("20000", "5999.99"),
            "orange": ("20000", "10000"), "below_orange": ("20000", "9999.99"),
            "red": ("20000", "20000"), "below_red": ("20000", "19999.99"),
            "at_floor": ("10000", "5000"), "below_floor": ("10000", "4999.99"),
            "no_income": ("", "5000"), "no_income_below_floor": ("", "4999.99")}
    for i, case in enumerate(plan):
        h = Household(f"H{i:02d}")
        cases[case] = h.add()
        households.append(h)
    couple = Household("HC")
    husband, wife = couple.add(), couple.add(relation="spouse")
    # out-of-pocket left empty: total cost − fund paid (8,000 − 2,000 = 6,000), on 20,000 → 0.30
    blank = Household("HB")
    blank_head = blank.add()
    register(engine, tmp_path, [*households, couple, blank])
    f = Feeds()
    records = {}
    for case, (income, oop) in plan.items():
        if income:
            f.wage(cases[case], "2025-01", income)
        records[case] = f.add("medical", cases[case], settled_on="2025-03-15", kind="inpatient",
                              total_cost="30000", fund_paid="0", out_of_pocket=oop)
    # the household's income, not the patient's own: 6,000 on 10,000 + 10,000
    f.wage(husband, "2024-12", "10000")
    f.wage(wife, "2025-02", "10000")
    f.add("medical", wife, settled_on="2025-03-31", kind="outpatient", total_cost="6000",
          out_of_pocket="6000")
    f.wage(blank_head, "2024-04", "20000")
    blank_record = f.add("medical", blank_head, settled_on="2025-03-01", kind="inpatient", total_cost="8000",
                         fund_paid="2000")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "medical_oop_large"))

    warned = fired(engine, "medical_oop_large")
    by_case = {case: warned.get(pid) for case, pid in cases.items()}
    assert {c: w["level"] for c, w in by_case.items() if w} == {
        "yellow": "yellow", "orange": "orange", "below_orange": "yellow", "red": "red", "below_red": "orange",
        "at_floor": "orange", "no_income": "red"}
    assert {c: w["value"] for c, w in by_case.items() if w} == {
        "yellow": "0.30", "orange": "0.50", "below_orange": "0.50", "red": "1.00", "below_red": "1.00",
        "at_floor": "0.50", "no_income": INFINITE}
    assert by_case["yellow"]["evidence"] == [ev("medical", records["yellow"])]
    assert (warned[wife]["level"], warned[wife]["value"]) == ("yellow", "0.30") and husband not in warned
    assert (warned[blank_head]["level"], warned[blank_head]["value"]) == ("yellow", "0.30")
    assert warned[blank_head]["evidence"] == [ev("medical", blank_record)]
    w = by_case["red"]
    assert (w["need"], w["side"], w["region_code"], w["household_no"]) == ("medical", "entry", VILLAGE, "H04")


def test_medical_oop_large_12_months_fire_when_a_level_is_crossed_inside_the_window(engine: Engine,
                                                                                      tmp_path: Path) -> None:
    """The 12 months' costs count from the window's first day (1 April 2024), and warn only in the month
    they reach a level: a cost already above a level does not warn again for it."""
    names = ["first_day", "day_before_window", "below", "already_yellow", "crosses_orange", "after_month"]
    hs = [Household(f"H{i}") for i in range(len(names))]
    p = dict(zip(names, [h.add() for h in hs], strict=True))
    register(engine, tmp_path, hs)
    f = Feeds()
    for pid in p.values():
        f.wage(pid, "2025-01", "20000")

    def med(pid: str, day: str, oop: str) -> str:
        return f.add("medical", pid, delivered=day[:7].replace("-", ""), settled_on=day, kind="chronic",
                     total_cost=oop, out_of_pocket=oop)

    med(p["first_day"], "2024-04-01", "4000")
    march = med(p["first_day"], "2025-03-20", "2000")  # 6,000 over 12 months: 0.30
    med(p["day_before_window"], "2024-03-31", "4000")
    med(p["day_before_window"], "2025-03-20", "2000")
    med(p["below"], "2024-10-10", "3999.99")
    med(p["below"], "2025-03-20", "2000")  # 5,999.99
    med(p["already_yellow"], "2024-10-10", "6000")
    med(p["already_yellow"], "2025-03-20", "1000")  # 0.30 → 0.35: no level crossed
    med(p["crosses_orange"], "2024-10-10", "6000")
    med(p["crosses_orange"], "2025-03-20", "4000")  # 0.30 → 0.50
    f.add("medical", p["after_month"], settled_on="2025-04-01", kind="inpatient", total_cost="9000",
          out_of_pocket="9000")  # delivered with March's file but settled in April
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "medical_oop_large"))

    warned = fired(engine, "medical_oop_large")
    assert levels(warned) == {p["first_day"]: "yellow", p["crosses_orange"]: "orange"}
    assert values(warned) == {p["first_day"]: "0.30", p["crosses_orange"]: "0.50"}
    # the evidence is the month's settlement (the news), not the year's
    assert warned[p["first_day"]]["evidence"] == [ev("medical", march)]


def test_medical_oop_large_anyone_a_person_only_the_feeds_know(engine: Engine, tmp_path: Path) -> None:
    """Population `anyone`: a person not in the register is warned on their own income, in the region
    the medical row gives (else their id number's county)."""
    h = Household("H1")
    h.add()
    register(engine, tmp_path, [h])
    with_region, no_region = person_id("1980-01-01"), make_id("1981-01-01", 77, prefix="370481")
    f = Feeds()
    f.wage(with_region, "2025-02", "20000")
    rec = f.add("medical", with_region, settled_on="2025-03-05", kind="inpatient", total_cost="6000",
                out_of_pocket="6000", region=VILLAGE2)
    f.add("medical", no_region, settled_on="2025-03-05", kind="inpatient", total_cost="5000",
          out_of_pocket="5000")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "medical_oop_large"))
    warned = fired(engine, "medical_oop_large")
    w = warned[with_region]
    assert (w["level"], w["value"], w["region_code"], w["person_id"], w["household_id"]) == (
        "yellow", "0.30", VILLAGE2, None, None)
    assert w["evidence"] == [ev("medical", rec)]
    assert (warned[no_region]["level"], warned[no_region]["region_code"]) == ("red", "370481000000")


# --- income_drop ------------------------------------------------------------------------------------

def test_income_drop_fires_at_30_percent_below_the_6_month_mean_with_3_months_of_history(
        engine: Engine, tmp_path: Path) -> None:
    h = Household("H1")
    names = ["drop_30", "drop_below_30", "no_row", "three_months", "three_months_below", "two_months",
             "seventh_month_back", "died"]
    p = {n: h.add(f"19{70 + i}-01-01") for i, n in enumerate(names)}
    register(engine, tmp_path, [h])
    stranger = person_id("1985-01-01")
    f = Feeds()
    six = ["2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02"]
    feb = {}
    for name in ("drop_30", "drop_below_30", "no_row", "died"):
        for m in six:
            feb[name] = f.wage(p[name], m, "1000")
    for m in six:
        f.wage(stranger, m, "1000")
    march = f.wage(p["drop_30"], "2025-03", "700")
    f.wage(p["drop_below_30"], "2025-03", "700.01")
    f.wage(p["died"], "2025-03", "100")
    f.add("death", p["died"], death_date="2025-03-10")
    # 1,000 in three of the six delivered months: a mean of 500 (a delivered month without a row is 0)
    for name in ("three_months", "three_months_below"):
        for m in ("2024-12", "2025-01", "2025-02"):
            f.wage(p[name], m, "1000")
    f.wage(p["three_months"], "2025-03", "350")
    f.wage(p["three_months_below"], "2025-03", "350.01")
    for m in ("2025-01", "2025-02"):
        f.wage(p["two_months"], m, "1000")
        f.wage(p["seventh_month_back"], m, "1000")
    f.wage(p["seventh_month_back"], "2024-08", "1000")  # M−7: outside the 6 months
    f.ingest(engine, tmp_path)
    report = run(engine, tmp_path, catalogue=only(CATALOGUE, "income_drop"))
    assert report["notes"] == []

    warned = fired(engine, "income_drop")
    assert values(warned) == {p["drop_30"]: "-30%", p["no_row"]: "-100%", p["three_months"]: "-30%"}
    assert {w["level"] for w in warned.values()} == {"yellow"}
    # the evidence: the month's rows and the month before's
    assert warned[p["drop_30"]]["evidence"] == [ev("social_insurance", march),
                                                ev("social_insurance", feb["drop_30"], "2025-02")]
    assert warned[p["no_row"]]["evidence"] == [ev("social_insurance", feb["no_row"], "2025-02")]

    # April: social insurance did not deliver the month, so income is not compared, and the run says so
    report = run(engine, tmp_path, month="2025-04", catalogue=only(CATALOGUE, "income_drop"))
    assert report["notes"] == ["income_drop: social_insurance has no rows for 2025-04; income not compared"]
    assert fired(engine, "income_drop", "2025-04") == {}


# --- new_disability ---------------------------------------------------------------------------------

def test_new_disability_a_valid_certificate_issued_in_the_month(engine: Engine, tmp_path: Path) -> None:
    h = Household("H1", "other_concern")
    names = ["first_day", "last_day_grade_4", "day_before", "day_after", "revoked", "had_one", "had_revoked"]
    p = {n: h.add(f"19{60 + i}-01-01") for i, n in enumerate(names)}
    register(engine, tmp_path, [h])
    stranger = person_id("1966-06-06")
    f = Feeds()

    def cert(pid: str, day: str, grade: str = "2", status: str = "valid") -> str:
        return f.add("disability", pid, category="physical", grade=grade, issued_on=day, status=status)

    first = cert(p["first_day"], "2025-03-01")
    cert(p["last_day_grade_4"], "2025-03-31", grade="4")
    cert(p["day_before"], "2025-02-28")
    cert(p["day_after"], "2025-04-01")
    cert(p["revoked"], "2025-03-10", status="revoked")
    cert(p["had_one"], "2020-05-05", grade="3")
    cert(p["had_one"], "2025-03-10", grade="1")  # a change of grade, not a new disability
    cert(p["had_revoked"], "2020-05-05", status="revoked")
    cert(p["had_revoked"], "2025-03-10")
    cert(stranger, "2025-03-10")  # population `registered`: not in the register, not watched
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "new_disability"))
    warned = fired(engine, "new_disability")
    assert levels(warned) == {p["first_day"]: "yellow", p["last_day_grade_4"]: "yellow",
                              p["had_revoked"]: "yellow"}
    w = warned[p["first_day"]]
    assert (w["value"], w["evidence"], w["need"], w["side"]) == (None, [ev("disability", first)],
                                                                  "basic_living", "entry")


def test_new_disability_max_grade_parameter_is_the_boundary(engine: Engine, tmp_path: Path) -> None:
    """With max_grade 3 a grade-3 certificate counts, a grade-4 one does not (1 is the most severe)."""
    def edit(raw: dict) -> None:
        rule_of(raw, "new_disability")["parameters"]["max_grade"]["values"][0]["value"] = 3

    catalogue = only(catalogue_with(tmp_path, edit), "new_disability")
    h = Household("H1")
    g3, g4 = h.add("1960-01-01"), h.add("1961-01-01")
    register(engine, tmp_path, [h])
    f = Feeds()
    f.add("disability", g3, category="visual", grade="3", issued_on="2025-03-10", status="valid")
    f.add("disability", g4, category="visual", grade="4", issued_on="2025-03-10", status="valid")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=catalogue)
    assert set(fired(engine, "new_disability")) == {g3}


# --- earner_death -----------------------------------------------------------------------------------

def test_earner_death_only_the_top_earner_over_12_months_dying_in_the_month(engine: Engine,
                                                                            tmp_path: Path) -> None:
    top, second, late, none_earn, pop, window = (Household(f"H{i}") for i in range(6))
    top_head, top_spouse = top.add("1970-01-01"), top.add("1972-01-01", relation="spouse")
    second_head, second_child = second.add("1950-01-01"), second.add("1980-01-01")
    late_head = late.add("1971-01-01")
    none_head = none_earn.add("1940-01-01")
    pop_head = pop.add("1969-01-01")
    window_head, window_spouse = window.add("1968-01-01"), window.add("1968-02-02", relation="spouse")
    register(engine, tmp_path, [top, second, late, none_earn, pop, window])
    f = Feeds()
    f.wage(top_head, "2024-06", "3000")
    f.wage(top_spouse, "2024-06", "1000")
    f.wage(second_head, "2024-06", "1000")
    f.wage(second_child, "2024-06", "2000")
    f.wage(late_head, "2024-06", "3000")
    f.wage(pop_head, "2025-03", "3000")
    f.wage(window_head, "2024-03", "5000")  # before the 12 months: not what decides the earner
    f.wage(window_spouse, "2024-04", "1000")
    death = f.add("death", top_head, death_date="2025-03-15", source="殡葬")
    f.add("death", top_spouse, death_date="2025-03-15")  # not the main earner
    f.add("death", second_head, death_date="2025-03-20")  # the child earns more
    f.add("death", late_head, delivered="202502", death_date="2025-02-28")  # the month before
    f.add("death", none_head, death_date="2025-03-05")  # nobody in the household earns
    event = f.add("population", pop_head, event="death", event_date="2025-03-31")
    f.add("death", window_head, death_date="2025-03-10")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "earner_death"))
    warned = fired(engine, "earner_death")
    assert levels(warned) == {top_head: "orange", pop_head: "orange"}
    assert warned[top_head]["evidence"] == [ev("death", death)]
    assert warned[pop_head]["evidence"] == [ev("population", event)]
    assert warned[top_head]["household_no"] == "H0" and warned[top_head]["value"] is None


# --- new_unemployment -------------------------------------------------------------------------------

def test_new_unemployment_working_age_16_to_under_60_on_the_months_last_day(engine: Engine,
                                                                            tmp_path: Path) -> None:
    h = Household("H1")
    # case → (birth date, registered on, ended on)
    cases = {"turns_60_later": ("1965-04-01", "2025-03-31", ""), "is_60": ("1965-03-31", "2025-03-31", ""),
             "is_16": ("2009-03-31", "2025-03-31", ""), "turns_16_later": ("2009-04-01", "2025-03-31", ""),
             "registered_before": ("1980-01-01", "2025-02-28", ""),
             "first_day": ("1981-01-01", "2025-03-01", ""),
             "ended_same_day": ("1982-01-01", "2025-03-10", "2025-03-10")}
    p = {n: h.add(birth) for n, (birth, _, _) in cases.items()}
    register(engine, tmp_path, [h])
    stranger = person_id("1983-01-01")
    f = Feeds()
    recs = {n: f.add("unemployment", p[n], registered_on=on, ended_on=off)
            for n, (_, on, off) in cases.items()}
    f.add("unemployment", stranger, registered_on="2025-03-10")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "new_unemployment"))
    warned = fired(engine, "new_unemployment")
    assert set(warned) == {p["turns_60_later"], p["is_16"], p["first_day"]}
    w = warned[p["is_16"]]
    assert (w["level"], w["need"], w["evidence"]) == ("yellow", "employment",
                                                      [ev("unemployment", recs["is_16"])])


# --- education_cost ---------------------------------------------------------------------------------

def test_education_cost_entering_a_fee_stage_in_the_month(engine: Engine, tmp_path: Path) -> None:
    h = Household("H1", "dibao_edge")
    cases = {"senior": ("senior", "2025-03-01"), "vocational": ("vocational", "2025-03-31"),
             "college": ("college", "2025-03-15"), "junior": ("junior", "2025-03-15"),
             "day_before": ("senior", "2025-02-28"), "day_after": ("college", "2025-04-01")}
    p = {n: h.add(f"20{i:02d}-01-01") for i, n in enumerate(cases)}
    register(engine, tmp_path, [h])
    stranger = person_id("2007-01-01")
    f = Feeds()
    recs = {n: f.add("education", p[n], stage=stage, school="枣庄三中", enrolled_on=day, annual_fees="3000")
            for n, (stage, day) in cases.items()}
    f.add("education", stranger, stage="senior", enrolled_on="2025-03-10")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "education_cost"))
    warned = fired(engine, "education_cost")
    assert levels(warned) == {p["senior"]: "yellow", p["vocational"]: "yellow", p["college"]: "yellow"}
    assert warned[p["vocational"]]["evidence"] == [ev("education", recs["vocational"])]
    assert warned[p["college"]]["need"] == "education"


# --- disaster_loss ----------------------------------------------------------------------------------

def test_disaster_loss_levels_at_500_10000_and_50000_yuan(engine: Engine, tmp_path: Path) -> None:
    losses = {"below_yellow": ["499.99"], "yellow": ["500"], "below_orange": ["9999.99"], "orange": ["10000"],
              "below_red": ["49999.99"], "red": ["50000"], "two_events": ["250", "250.00"]}
    h = Household("H1")
    p = {n: h.add(f"19{50 + i}-01-01") for i, n in enumerate([*losses, "earlier_month"])}
    register(engine, tmp_path, [h])
    stranger = person_id("1990-09-09")
    f = Feeds()
    recs: dict[str, list[str]] = {}
    for name, amounts in losses.items():
        recs[name] = [f.add("disaster", p[name], event_type="洪涝", loss_estimate=a,
                            occurred_on="2025-03-31" if i else "2025-03-01") for i, a in enumerate(amounts)]
    f.add("disaster", p["earlier_month"], delivered="202502", event_type="洪涝", occurred_on="2025-02-28",
          loss_estimate="20000")
    f.add("disaster", p["earlier_month"], event_type="洪涝", occurred_on="2025-03-02", loss_estimate="300")
    f.add("disaster", stranger, event_type="冰雹", occurred_on="2025-03-10", loss_estimate="600",
          region=VILLAGE2)
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "disaster_loss"))
    warned = fired(engine, "disaster_loss")
    by = {n: warned.get(pid) for n, pid in p.items()}
    assert {n: w["level"] for n, w in by.items() if w} == {
        "yellow": "yellow", "below_orange": "yellow", "orange": "orange", "below_red": "orange", "red": "red",
        "two_events": "yellow"}
    assert {n: w["value"] for n, w in by.items() if w} == {
        "yellow": "500.00元", "below_orange": "9,999.99元", "orange": "10,000.00元",
        "below_red": "49,999.99元", "red": "50,000.00元", "two_events": "500.00元"}
    assert by["two_events"]["evidence"] == sorted((ev("disaster", r) for r in recs["two_events"]),
                                                  key=lambda e: e["record_id"])
    w = warned[stranger]
    assert (w["level"], w["region_code"], w["person_id"], w["need"]) == ("yellow", VILLAGE2, None, "disaster")



def test_disaster_loss_counts_a_corrected_record_at_its_latest_version(engine: Engine,
                                                                      tmp_path: Path) -> None:
    # the department re-delivers a record with another loss estimate: the correction replaces it
    h = Household("H1")
    corrected, lowered = h.add("1960-01-01"), h.add("1961-01-01")
    register(engine, tmp_path, [h])
    f = Feeds()
    f.add("disaster", corrected, delivered="202502", record_id="DIS-A", event_type="洪涝",
          occurred_on="2025-03-01", loss_estimate="600")
    f.add("disaster", corrected, record_id="DIS-A", event_type="洪涝", occurred_on="2025-03-01",
          loss_estimate="12000")
    f.add("disaster", lowered, delivered="202502", record_id="DIS-B", event_type="洪涝",
          occurred_on="2025-03-02", loss_estimate="900")
    f.add("disaster", lowered, record_id="DIS-B", event_type="洪涝", occurred_on="2025-03-02",
          loss_estimate="100")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "disaster_loss"))
    warned = fired(engine, "disaster_loss")
    assert (warned[corrected]["level"], warned[corrected]["value"]) == ("orange", "12,000.00元")
    assert lowered not in warned  # 100 yuan after the correction: below the 500 floor


# --- hotline_help -----------------------------------------------------------------------------------

def test_hotline_help_a_help_request_in_the_month_registered_or_not(engine: Engine, tmp_path: Path) -> None:
    h = Household("H1")  # no tier: population `anyone`
    twice, complaint, before, after = (h.add(f"19{70 + i}-01-01") for i in range(4))
    register(engine, tmp_path, [h])
    in_region = person_id("1991-01-01")
    no_region = make_id("1992-02-02", 55, prefix="370481")  # 滕州市: its county, village part zero
    stranger_complaint = person_id("1993-03-03")
    f = Feeds()

    def call(pid: str, day: str, category: str = "help_request", **kw: str) -> str:
        return f.add("hotline", pid, received_at=day, category=category, text="生活困难求助", **kw)

    calls = [call(twice, "2025-03-01"), call(twice, "2025-03-31")]
    call(complaint, "2025-03-10", "complaint")
    call(before, "2025-02-28", delivered="202502")
    call(after, "2025-04-01")
    region_call = call(in_region, "2025-03-15", region=VILLAGE2)
    call(no_region, "2025-03-16")
    call(stranger_complaint, "2025-03-17", "report", region=VILLAGE2)
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "hotline_help"))
    warned = fired(engine, "hotline_help")
    assert set(warned) == {twice, in_region, no_region}
    assert (warned[twice]["value"], warned[twice]["region_code"], warned[twice]["household_no"]) == (
        "2", VILLAGE, "H1")
    assert warned[twice]["evidence"] == sorted((ev("hotline", r) for r in calls),
                                               key=lambda e: e["record_id"])
    w = warned[in_region]
    assert (w["value"], w["region_code"], w["person_id"], w["household_id"], w["household_no"]) == (
        "1", VILLAGE2, None, None, None)
    assert w["evidence"] == [ev("hotline", region_call)]
    assert warned[no_region]["region_code"] == "370481000000"
    assert {w["level"] for w in warned.values()} == {"yellow"}


# --- anti_relapse -----------------------------------------------------------------------------------

def test_anti_relapse_identified_in_the_month_and_not_removed_by_its_end(engine: Engine,
                                                                        tmp_path: Path) -> None:
    h = Household("H1", "other_concern")
    first, removed_last_day, removed_after, before = (h.add(f"19{70 + i}-01-01") for i in range(4))
    register(engine, tmp_path, [h])
    stranger = person_id("1975-05-05")
    f = Feeds()
    rec = f.add("anti_relapse", first, type="unstable", identified_on="2025-03-01")
    f.add("anti_relapse", removed_last_day, type="edge", identified_on="2025-03-15", removed_on="2025-03-31")
    f.add("anti_relapse", removed_after, type="sudden", identified_on="2025-03-31", removed_on="2025-04-01")
    f.add("anti_relapse", before, type="edge", identified_on="2025-02-28")
    f.add("anti_relapse", stranger, type="sudden", identified_on="2025-03-10", region=VILLAGE2)
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "anti_relapse"))
    warned = fired(engine, "anti_relapse")
    assert levels(warned) == {first: "orange", removed_after: "orange", stranger: "orange"}
    assert warned[first]["evidence"] == [ev("anti_relapse", rec)]
    assert warned[stranger]["region_code"] == VILLAGE2


# --- recipient_death --------------------------------------------------------------------------------

def test_recipient_death_an_enrolled_person_dead_by_the_months_last_day(engine: Engine,
                                                                        tmp_path: Path) -> None:
    dibao, edge, concern, plain = (Household("HD", "dibao"), Household("HE", "extremely_poor"),
                                   Household("HO", "other_concern"), Household("HN"))
    last_day, next_day, january, event = (dibao.add(f"19{40 + i}-01-01") for i in range(4))
    poor = edge.add("1935-01-01")
    other = concern.add("1945-01-01")
    nobody = plain.add("1946-01-01")
    register(engine, tmp_path, [dibao, edge, concern, plain])
    f = Feeds()
    rec = f.add("death", last_day, death_date="2025-03-31", source="火化")
    f.add("death", next_day, death_date="2025-04-01")
    jan = f.add("death", january, delivered="202501", death_date="2025-01-15")  # still enrolled: still warned
    pop = f.add("population", event, event="death", event_date="2025-03-05")
    f.add("death", poor, death_date="2025-03-20")
    f.add("death", other, death_date="2025-03-20")  # other concern: not enrolled
    f.add("death", nobody, death_date="2025-03-20")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "recipient_death"))
    warned = fired(engine, "recipient_death")
    assert levels(warned) == {last_day: "red", january: "red", event: "red", poor: "red"}
    assert warned[last_day]["evidence"] == [ev("death", rec)]
    assert warned[january]["evidence"] == [ev("death", jan, "2025-01")]
    assert warned[event]["evidence"] == [ev("population", pop)]
    assert (warned[poor]["need"], warned[poor]["side"]) == ("integrity", "exit")


# --- income_above_line ------------------------------------------------------------------------------

def test_income_above_line_levels_by_consecutive_months_1_3_6(engine: Engine, tmp_path: Path) -> None:
    """Consecutive months ending in March in which the batch assessment put an enrolled household's
    per-capita income above the dibao standard: yellow from 1, orange from 3, red at 6."""
    streaks = {"one": 1, "two": 2, "three": 3, "five": 5, "six": 6}
    names = [*streaks, "gap", "equal", "up", "february_only", "not_enrolled"]
    hs = {n: Household(f"H{i}", "" if n == "not_enrolled" else "dibao") for i, n in enumerate(names)}
    heads = {}
    for n, h in hs.items():
        h.add("1980-01-01", relation="spouse" if n == "two" else None)  # "two": the head is listed second
        heads[n] = h.add("1975-01-01", relation="head") if n == "two" else h.members[0][0]
    register(engine, tmp_path, list(hs.values()))
    ids = {n: household_id(engine, h.no) for n, h in hs.items()}
    months = ["2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
    above = {"february_only": {"2025-02"}, "gap": {"2025-01", "2025-03"}, "equal": {"2025-03"},
             "up": {"2025-03"}, "not_enrolled": {"2025-03"},
             **{n: set(months[len(months) - k:]) for n, k in streaks.items()}}
    runs = {}
    for m in months:
        rows = []
        for n, in_months in above.items():
            if m not in in_months:
                continue
            row = {"household_id": ids[n], "change": "exit", "per_capita_income_fen": 120_000}
            if n == "equal":
                row["per_capita_income_fen"] = 94_100  # equal to the standard: not above it
            if n == "up":
                row["change"] = "up"
            rows.append(row)
        runs[m] = assessment_run(engine, m, rows)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "income_above_line"))
    warned = fired(engine, "income_above_line")
    by = {n: warned.get(heads[n]) for n in names}
    assert {n: (w["level"], w["value"]) for n, w in by.items() if w} == {
        "one": ("yellow", "1个月"), "two": ("yellow", "2个月"), "three": ("orange", "3个月"),
        "five": ("orange", "5个月"), "six": ("red", "6个月"), "gap": ("yellow", "1个月")}
    w = by["six"]
    assert w["evidence"] == [ev("assessment", f"run {runs['2025-03']}")]
    assert (w["household_id"], w["need"], w["side"]) == (ids["six"], "integrity", "exit")


# --- asset_car ----------------------------------------------------------------------------------------

def test_asset_car_a_counted_vehicle_held_at_the_months_end_by_an_enrolled_household(engine: Engine,
                                                                                    tmp_path: Path) -> None:
    dibao, edge, concern, plain = (Household("HD", "dibao"), Household("HE", "dibao_edge"),
                                   Household("HO", "other_concern"), Household("HN"))
    names = ["last_day", "day_after", "deregistered_last_day", "deregistered_after", "exempt", "two",
             "undated"]
    p = {n: dibao.add(f"19{70 + i}-01-01") for i, n in enumerate(names)}
    edge_head, concern_head, plain_head = edge.add(), concern.add(), plain.add()
    register(engine, tmp_path, [dibao, edge, concern, plain])
    stranger = person_id("1985-01-01")
    f = Feeds()
    plates = iter(range(10000, 99999))

    def car(pid: str, kind: str = "car", on: str = "2020-06-01", off: str = "") -> str:
        return f.add("vehicle", pid, plate=f"鲁D{next(plates)}", vehicle_type=kind, registered_on=on,
                     deregistered_on=off, price="80000")

    last_day = car(p["last_day"], on="2025-03-31")
    car(p["day_after"], on="2025-04-01")
    car(p["deregistered_last_day"], off="2025-03-31")
    kept = car(p["deregistered_after"], off="2025-04-01")
    for kind in ("motorcycle", "disability_vehicle", "farm"):
        car(p["exempt"], kind)
    two = [car(p["two"], "truck", on="2024-05-05"), car(p["two"], "car", on="2023-01-01")]
    undated = car(p["undated"], on="")
    car(edge_head)
    car(concern_head)
    car(plain_head)
    car(stranger)
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "asset_car"))
    warned = fired(engine, "asset_car")
    assert values(warned) == {p["last_day"]: "1", p["deregistered_after"]: "1", p["two"]: "2",
                              p["undated"]: "1", edge_head: "1"}
    assert {w["level"] for w in warned.values()} == {"orange"}
    assert warned[p["last_day"]]["evidence"] == [ev("vehicle", last_day)]
    assert warned[p["deregistered_after"]]["evidence"] == [ev("vehicle", kept, "2020-06")]
    assert warned[p["two"]]["evidence"] == [ev("vehicle", two[0], "2024-05"),
                                            ev("vehicle", two[1], "2023-01")]
    assert warned[p["undated"]]["evidence"] == [ev("vehicle", undated)]  # undated: the month's


# --- asset_property -----------------------------------------------------------------------------------

def test_asset_property_more_residential_homes_than_allowed_at_the_months_end(engine: Engine,
                                                                             tmp_path: Path) -> None:
    two, commercial, sold, later, plain = (Household("H2", "dibao"), Household("HC", "dibao"),
                                           Household("HS", "rigid_expenditure"), Household("HL", "dibao"),
                                           Household("HN"))
    co_owned = Household("HO", "dibao")
    co_head, co_spouse = co_owned.add("1972-01-01"), co_owned.add("1973-01-01", relation="spouse")
    two_head, two_spouse = two.add("1970-01-01"), two.add("1971-01-01", relation="spouse")
    com_head = commercial.add()
    sold_head = sold.add()
    later_head = later.add()
    plain_head = plain.add()
    register(engine, tmp_path, [two, commercial, sold, later, plain, co_owned])
    f = Feeds()
    units = iter(range(1, 100))
    for owner in (co_head, co_spouse):  # one flat, a row per co-owner: one home, not two
        f.add("property", owner, property_no="370402999999", area_m2="70", use="residential",
              registered_on="2015-01-01", deregistered_on="")

    def home(pid: str, use: str = "residential", on: str = "2015-01-01", off: str = "") -> str:
        return f.add("property", pid, property_no=f"370402{next(units):06d}", area_m2="60.5", use=use,
                     registered_on=on, deregistered_on=off)

    recs = [home(two_head), home(two_spouse, on="2025-03-31")]
    home(com_head)
    home(com_head, "commercial")
    home(sold_head)
    home(sold_head, off="2025-03-31")
    home(later_head)
    home(later_head, on="2025-04-01")
    home(plain_head)
    home(plain_head)
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "asset_property"))
    warned = fired(engine, "asset_property")
    assert set(warned) == {two_spouse}  # the member with the latest registration
    w = warned[two_spouse]
    assert (w["level"], w["value"], w["household_no"]) == ("orange", "2", "H2")
    assert w["evidence"] == [ev("property", recs[1]), ev("property", recs[0], "2015-01")]


# --- asset_business -----------------------------------------------------------------------------------

def test_asset_business_active_capital_above_100000_yuan(engine: Engine, tmp_path: Path) -> None:
    h, plain = Household("H1", "dibao"), Household("HN")
    names = ["at_limit", "above", "two", "cancelled", "established_after", "established_last_day"]
    p = {n: h.add(f"19{70 + i}-01-01") for i, n in enumerate(names)}
    plain_head = plain.add()
    register(engine, tmp_path, [h, plain])
    f = Feeds()

    def firm(pid: str, capital: str, *, status: str = "active", on: str = "2020-01-01",
             role: str = "legal_rep") -> str:
        return f.add("business", pid, entity_name="某商贸有限公司", role=role, registered_capital=capital,
                     established_on=on, status=status)

    firm(p["at_limit"], "100000.00")
    above = firm(p["above"], "100000.01", role="owner")
    firm(p["two"], "60000", role="shareholder")
    firm(p["two"], "40000.01")
    firm(p["cancelled"], "500000", status="cancelled")
    firm(p["established_after"], "200000", on="2025-04-01")
    firm(p["established_last_day"], "200000", on="2025-03-31")
    firm(plain_head, "200000")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "asset_business"))
    warned = fired(engine, "asset_business")
    assert values(warned) == {p["above"]: "100,000.01元", p["two"]: "100,000.01元",
                              p["established_last_day"]: "200,000.00元"}
    assert {w["level"] for w in warned.values()} == {"orange"}
    assert warned[p["above"]]["evidence"] == [ev("business", above, "2020-01")]


# --- duplicate_enrolment --------------------------------------------------------------------------------

def test_duplicate_enrolment_an_enrolment_overlapping_one_in_another_household(engine: Engine,
                                                                              tmp_path: Path) -> None:
    """The register's importer never makes overlapping enrolments (a move closes the old one), so the
    second region's enrolment is written straight into the tier history, as a data migration from
    another system would leave it."""
    first, second, moved_from, moved_to, future = (Household(f"H{i}", "dibao") for i in range(5))
    twice = first.add("1960-01-01")
    second.add("1961-01-01")
    moved = moved_from.add("1962-01-01")
    moved_to.add("1963-01-01")
    later = future.add("1964-01-01")
    register(engine, tmp_path, [first, second, moved_from, moved_to, future])
    pt = registry_store.person_tiers
    pk = {pid: person_pk(engine, pid) for pid in (twice, moved, later)}
    hid = {h.no: household_id(engine, h.no) for h in (first, second, moved_to)}
    with engine.connect() as c:
        import_id = c.execute(select(func.max(registry_store.registry_imports.c.id))).scalar_one()
    new_year = dt.date(2025, 1, 1)
    with engine.begin() as c:
        def enrol(pid: str, household: Household, since: dt.date) -> None:
            c.execute(insert(pt).values(person_id=pk[pid], household_id=hid[household.no], tier="dibao",
                                        since=since, import_id=import_id))

        enrol(twice, second, new_year)
        # an ordinary move: the old enrolment ends the day the new one starts
        c.execute(update(pt).where(pt.c.person_id == pk[moved]).values(until=new_year))
        enrol(moved, moved_to, new_year)
        enrol(later, first, dt.date(2025, 4, 1))  # overlaps only from April
    run(engine, tmp_path, catalogue=only(CATALOGUE, "duplicate_enrolment"))
    warned = fired(engine, "duplicate_enrolment")
    assert set(warned) == {twice}
    w = warned[twice]
    assert (w["level"], w["value"], w["need"]) == ("red", "2", "integrity")
    assert w["evidence"] == [ev("registry", f"household {hid[first.no]}", "2025-01")]


def test_duplicate_enrolment_same_day_and_put_right_long_ago(engine: Engine, tmp_path: Path) -> None:
    """Two enrolments starting the same day are a duplicate (reported once); an overlap that ended
    more than a year before the month is history."""
    first, second, third, fourth = (Household(f"H{i}", "dibao") for i in range(4))
    same_day = first.add("1960-01-01")
    second.add("1961-01-01")
    old = third.add("1962-01-01")
    fourth.add("1963-01-01")
    register(engine, tmp_path, [first, second, third, fourth])
    pt = registry_store.person_tiers
    pk = {pid: person_pk(engine, pid) for pid in (same_day, old)}
    hid = {h.no: household_id(engine, h.no) for h in (first, second, third, fourth)}
    with engine.connect() as c:
        import_id = c.execute(select(func.max(registry_store.registry_imports.c.id))).scalar_one()
        since = c.execute(select(pt.c.since).where(pt.c.person_id == pk[same_day])).scalar_one()
    with engine.begin() as c:
        c.execute(insert(pt).values(person_id=pk[same_day], household_id=hid[second.no], tier="dibao",
                                    since=since, import_id=import_id))
        # `old` was also enrolled in the fourth household 2021-06 to 2023-06, beside the third
        c.execute(update(pt).where(pt.c.person_id == pk[old]).values(since=dt.date(2022, 1, 1)))
        c.execute(insert(pt).values(person_id=pk[old], household_id=hid[fourth.no], tier="dibao",
                                    since=dt.date(2021, 6, 1), until=dt.date(2023, 6, 1),
                                    import_id=import_id))
    run(engine, tmp_path, catalogue=only(CATALOGUE, "duplicate_enrolment"))
    warned = fired(engine, "duplicate_enrolment")
    assert set(warned) == {same_day}
    assert warned[same_day]["value"] == "2" and len(warned[same_day]["evidence"]) == 1




def test_duplicate_enrolment_the_person_counts_once_in_their_households_income(engine: Engine,
                                                                                tmp_path: Path) -> None:
    first, second = Household("H1", "dibao"), Household("H2", "dibao")
    twice = first.add("1960-01-01")
    second.add("1961-01-01")
    register(engine, tmp_path, [first, second])
    pk, hid = person_pk(engine, twice), household_id(engine, "H2")
    with engine.connect() as c:
        import_id = c.execute(select(func.max(registry_store.registry_imports.c.id))).scalar_one()
    with engine.begin() as c:
        c.execute(insert(registry_store.person_tiers).values(person_id=pk, household_id=hid, tier="dibao",
                                                             since=dt.date(2025, 1, 1), import_id=import_id))
    f = Feeds()
    f.wage(twice, "2025-01", "20000")
    f.add("medical", twice, settled_on="2025-03-10", kind="inpatient", total_cost="6000",
          out_of_pocket="6000")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "medical_oop_large", "duplicate_enrolment"))
    assert set(fired(engine, "duplicate_enrolment")) == {twice}
    w = fired(engine, "medical_oop_large").get(twice)
    assert w is not None and (w["level"], w["value"]) == ("yellow", "0.30")


# --- cadre_relative ---------------------------------------------------------------------------------

def test_cadre_relative_an_enrolled_person_on_the_organisation_departments_list(engine: Engine,
                                                                               tmp_path: Path) -> None:
    dibao, plain = Household("HD", "dibao"), Household("HN")
    listed, listed_later = dibao.add("1970-01-01"), dibao.add("1971-01-01")
    not_enrolled = plain.add("1972-01-01")
    register(engine, tmp_path, [dibao, plain])
    stranger = person_id("1973-01-01")
    cadre = person_id("1965-01-01")
    f = Feeds()

    def relative(pid: str, delivered: str) -> str:
        return f.add("cadre_relatives", pid, delivered=delivered, cadre_id_number=cadre, cadre_name="王书记",
                     post="村支部书记", relation="兄弟姐妹")

    rec = relative(listed, "202501")  # a January list still stands in March
    relative(listed_later, "202504")  # delivered after March: not known to March's run
    relative(not_enrolled, "202501")
    relative(stranger, "202501")
    f.ingest(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "cadre_relative"))
    warned = fired(engine, "cadre_relative")
    assert set(warned) == {listed}
    assert (warned[listed]["level"], warned[listed]["evidence"]) == ("yellow", [ev("cadre_relatives", rec)])


# --- tier_mismatch ----------------------------------------------------------------------------------

def test_tier_mismatch_this_months_completed_assessment_moves_an_enrolled_household(engine: Engine,
                                                                                   tmp_path: Path) -> None:
    names = ["up", "down", "exit", "new", "february", "not_enrolled", "running_run"]
    hs = {n: Household(f"H{i}", "" if n in ("new", "not_enrolled") else "dibao") for i, n in enumerate(names)}
    heads = {n: h.add() for n, h in hs.items()}
    register(engine, tmp_path, list(hs.values()))
    ids = {n: household_id(engine, h.no) for n, h in hs.items()}
    march = assessment_run(engine, MONTH, [
        {"household_id": ids["up"], "change": "up", "tier": "extremely_poor"},
        {"household_id": ids["down"], "change": "down", "tier": "dibao_edge"},
        {"household_id": ids["exit"], "change": "exit"},
        {"household_id": ids["new"], "change": "new", "tier": "dibao", "registered_tier": None},
        {"household_id": ids["not_enrolled"], "change": "exit"}])
    assessment_run(engine, "2025-02", [{"household_id": ids["february"], "change": "down"}])
    assessment_run(engine, MONTH, [{"household_id": ids["running_run"], "change": "up"}], status="running")
    run(engine, tmp_path, catalogue=only(CATALOGUE, "tier_mismatch"))
    warned = fired(engine, "tier_mismatch")
    assert levels(warned) == {heads["up"]: "yellow", heads["down"]: "yellow", heads["exit"]: "yellow"}
    assert warned[heads["up"]]["evidence"] == [ev("assessment", f"run {march}")]
    assert warned[heads["up"]]["value"] is None




def _assessed_twice(engine: Engine, tmp_path: Path) -> str:
    """March assessed twice: first an exit, then (income corrected) the household stays in its tier."""
    h = Household("H1", "dibao")
    head = h.add()
    register(engine, tmp_path, [h])
    hid = household_id(engine, "H1")
    assessment_run(engine, MONTH, [{"household_id": hid, "change": "exit"}])
    assessment_run(engine, MONTH, [{"household_id": hid, "change": "unchanged", "tier": "dibao",
                                    "per_capita_income_fen": 50_000}])
    return head


def test_tier_mismatch_follows_the_latest_assessment_of_the_month(engine: Engine, tmp_path: Path) -> None:
    head = _assessed_twice(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "tier_mismatch"))
    assert head not in fired(engine, "tier_mismatch")


def test_income_above_line_follows_the_latest_assessment_of_the_month(engine: Engine, tmp_path: Path) -> None:
    head = _assessed_twice(engine, tmp_path)
    run(engine, tmp_path, catalogue=only(CATALOGUE, "income_above_line"))
    assert head not in fired(engine, "income_above_line")


# --- every rule is covered ----------------------------------------------------------------------------

def test_every_catalogue_rule_has_a_boundary_test_here() -> None:
    names = {n for n in globals() if n.startswith("test_")}
    missing = [r.id for r in CATALOGUE if not any(n.startswith(f"test_{r.id}_") for n in names)]
    assert len(CATALOGUE) == 17 and missing == []


# --- idempotency and suppression ------------------------------------------------------------------------

def _three_rules(engine: Engine, tmp_path: Path) -> tuple[str, str]:
    h = Household("H1", "dibao")
    a, b = h.add("1970-01-01"), h.add("1971-01-01")
    register(engine, tmp_path, [h])
    f = Feeds()
    f.add("hotline", a, received_at="2025-03-03", category="help_request")
    f.add("disaster", b, event_type="洪涝", occurred_on="2025-03-04", loss_estimate="12000")
    f.add("vehicle", a, plate="鲁D11111", vehicle_type="car", registered_on="2024-01-01")
    f.ingest(engine, tmp_path)
    return a, b


def test_running_a_month_twice_gives_the_same_warnings(engine: Engine, tmp_path: Path) -> None:
    _three_rules(engine, tmp_path)
    first = run(engine, tmp_path)
    listed = list_warnings(engine, month=MONTH, page_size=None)
    again = run(engine, tmp_path)
    assert first["recorded"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert again["recorded"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert first["by_rule"] == again["by_rule"] == {"asset_car": 1, "disaster_loss": 1, "hotline_help": 1}
    assert first["by_level"] == {"orange": 2, "yellow": 1} and first["by_county"] == {"370402": 3}
    assert list_warnings(engine, month=MONTH, page_size=None) == listed
    assert (count_rows(engine, warnings), count_rows(engine, warning_firings)) == (3, 3)
    with engine.connect() as c:
        assert c.execute(select(monitor_runs.c.status).order_by(monitor_runs.c.id)).scalars().all() == [
            "finished", "finished"]


def test_suppression_inside_the_window_updates_outside_it_raises_a_new_warning(engine: Engine,
                                                                               tmp_path: Path) -> None:
    """hotline_help's window is 1 month, disaster_loss's 3, counted from the month the rule last fired."""
    h = Household("H1")
    caller, victim = h.add("1970-01-01"), h.add("1971-01-01")
    register(engine, tmp_path, [h])
    f = Feeds()
    for day in ("2025-03-10", "2025-04-10", "2025-06-10"):
        f.add("hotline", caller, delivered=day[:7].replace("-", ""), received_at=day, category="help_request")
    for day, loss in (("2025-03-05", "600"), ("2025-06-05", "60000"), ("2025-10-05", "700")):
        f.add("disaster", victim, delivered=day[:7].replace("-", ""), event_type="洪涝", occurred_on=day,
              loss_estimate=loss)
    f.ingest(engine, tmp_path)
    catalogue = only(CATALOGUE, "hotline_help", "disaster_loss")
    reports = {m: run(engine, tmp_path, month=m, catalogue=catalogue)["recorded"]
               for m in ("2025-03", "2025-04", "2025-06", "2025-10")}
    assert reports == {"2025-03": {"created": 2, "updated": 0, "unchanged": 0},
                       "2025-04": {"created": 0, "updated": 1, "unchanged": 0},  # hotline, 1 month on
                       "2025-06": {"created": 1, "updated": 1, "unchanged": 0},  # hotline anew; disaster
                       "2025-10": {"created": 1, "updated": 0, "unchanged": 0}}  # disaster, 4 months on
    march = fired(engine, "hotline_help", "2025-03")[caller]
    april = fired(engine, "hotline_help", "2025-04")[caller]
    june = fired(engine, "hotline_help", "2025-06")[caller]
    assert april["warning_id"] == march["warning_id"] and (april["raised_month"], april["fired_months"]) == (
        "2025-03", 2)
    assert june["warning_id"] != march["warning_id"] and (june["raised_month"], june["fired_months"]) == (
        "2025-06", 1)
    d_march = fired(engine, "disaster_loss", "2025-03")[victim]
    d_june = fired(engine, "disaster_loss", "2025-06")[victim]
    d_october = fired(engine, "disaster_loss", "2025-10")[victim]
    assert d_june["warning_id"] == d_march["warning_id"] and d_june["fired_months"] == 2
    assert (d_march["level"], d_june["level"], d_june["value"]) == ("yellow", "red", "60,000.00元")
    assert d_october["warning_id"] != d_march["warning_id"] and d_october["raised_month"] == "2025-10"
    with engine.connect() as c:
        w = c.execute(select(warnings).where(warnings.c.id == d_march["warning_id"])).mappings().one()
    assert (w["level"], w["last_month"], w["fired_months"], w["value"]) == (
        "red", "2025-06", 2, "60,000.00元")
    # re-running a month inside the chain changes nothing
    assert run(engine, tmp_path, month="2025-04", catalogue=catalogue)["recorded"] == {
        "created": 0, "updated": 0, "unchanged": 1}


# --- a bad catalogue, a crash -------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "message"), [
    ("unknown_indicator", "unknown indicator 'hotline_calls_per_week'"),
    ("missing_parameter", "indicator medical_oop_ratio_month reads parameter 'oop_floor'"),
    ("not_in_force", "parameter categories: no value in force on 2025-03-31"),
])
def test_a_catalogue_the_engine_cannot_run_fails_before_anything_is_written(engine: Engine, tmp_path: Path,
                                                                           case: str, message: str) -> None:
    def edit(raw: dict) -> None:
        if case == "unknown_indicator":
            rule_of(raw, "hotline_help")["indicator"] = "hotline_calls_per_week"
        elif case == "missing_parameter":
            del rule_of(raw, "medical_oop_large")["parameters"]["oop_floor"]
        else:
            rule_of(raw, "hotline_help")["parameters"]["categories"]["values"][0]["from"] = "2025-06-01"

    catalogue = catalogue_with(tmp_path, edit)
    _three_rules(engine, tmp_path)
    with pytest.raises(MonitorCatalogueError, match=re.escape(message)):
        run(engine, tmp_path, catalogue=catalogue)
    assert (count_rows(engine, monitor_runs), count_rows(engine, warnings)) == (0, 0)




def test_a_catalogue_whose_level_threshold_is_not_in_force_fails_before_anything_is_written(
        engine: Engine, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        rule_of(raw, "disaster_loss")["parameters"]["loss_red"]["values"][0]["from"] = "2025-06-01"

    catalogue = catalogue_with(tmp_path, edit)  # the loader accepts it: thresholds ascend on every date
    _three_rules(engine, tmp_path)
    with pytest.raises(MonitorCatalogueError, match="loss_red"):
        run(engine, tmp_path, catalogue=catalogue)
    assert (count_rows(engine, monitor_runs), count_rows(engine, warnings)) == (0, 0)


def _failed_run_left_nothing(engine: Engine) -> None:
    assert (count_rows(engine, warnings), count_rows(engine, warning_firings)) == (0, 0)
    with engine.connect() as c:
        runs = c.execute(select(monitor_runs.c.status, monitor_runs.c.finished_at)).all()
    assert len(runs) == 1 and runs[0].status == "failed" and runs[0].finished_at is not None


def test_a_run_crashing_in_an_indicator_leaves_no_warnings_and_the_run_failed(engine: Engine, tmp_path: Path,
                                                                            monkeypatch) -> None:  # noqa: ANN001
    _three_rules(engine, tmp_path)

    def boom(*_a, **_k) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("indicator crashed")

    # the catalogue's last rule: every other rule has its candidates by then
    assert CATALOGUE.rules[-1].indicator == ("assessed_tier_change",)
    monkeypatch.setitem(INDICATORS, "assessed_tier_change", boom)
    with pytest.raises(RuntimeError, match="indicator crashed"):
        run(engine, tmp_path)
    _failed_run_left_nothing(engine)


def test_a_run_crashing_while_recording_leaves_no_warnings_and_a_rerun_records_them(
        engine: Engine, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    _three_rules(engine, tmp_path)
    insert_new = warnings_module._insert_new

    def half(*a, **k) -> None:  # noqa: ANN002, ANN003
        insert_new(*a, **k)  # the new warnings are written, then the process dies
        raise RuntimeError("killed while recording")

    monkeypatch.setattr(warnings_module, "_insert_new", half)
    catalogue = only(CATALOGUE, "hotline_help", "disaster_loss", "asset_car")
    with pytest.raises(RuntimeError, match="killed while recording"):
        run(engine, tmp_path, catalogue=catalogue)
    _failed_run_left_nothing(engine)
    monkeypatch.setattr(warnings_module, "_insert_new", insert_new)
    recorded = run(engine, tmp_path, catalogue=catalogue)["recorded"]
    assert recorded == {"created": 3, "updated": 0, "unchanged": 0}


# --- the CLI ------------------------------------------------------------------------------------------

def test_cli_monitor_run_prints_the_report_and_rejects_a_bad_month(settings_env: Path, engine: Engine,
                                                                   tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from rich.console import Console

    from safetynet.cli.main import app
    from safetynet.monitoring import run_cli

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(run_cli, "console", Console(width=220))
    h = Household("H1", "dibao")
    a = h.add()
    register(engine, tmp_path, [h])
    f = Feeds()
    f.add("hotline", a, received_at="2025-03-03", category="help_request")
    f.ingest(engine, settings_env)  # the lake under the configured data directory
    runner = CliRunner()
    r = runner.invoke(app, ["monitor", "run", "--month", "2025-03", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert (report["month"], report["engine"], report["warnings"]) == ("2025-03", "duckdb", 1)
    assert report["by_rule"] == {"hotline_help": 1} and report["by_county"] == {"370402": 1}
    assert report["recorded"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert set(report["timings"]) >= {r.id for r in CATALOGUE}
    assert list(fired(engine, "hotline_help")) == [a]
    r = runner.invoke(app, ["monitor", "run", "--month", "2025-03"])
    assert r.exit_code == 0, r.output
    assert "hotline_help" in r.stdout and "未变 1" in r.stdout
    for bad in ("2025-13", "202503", "March"):
        r = runner.invoke(app, ["monitor", "run", "--month", bad, "--json"])
        assert r.exit_code == 2, (bad, r.output)
        assert "month must be YYYY-MM" in r.output
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(monitor_runs)).scalar_one() == 2

