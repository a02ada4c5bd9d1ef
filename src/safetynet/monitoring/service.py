"""The monthly monitor run: every catalogue rule over the register, the lake and the batch assessment,
its warnings recorded idempotently, and a run report.

One run = one `monitor_runs` row. The candidates of all rules are computed first (nothing is written
while the backend works) and recorded in one transaction, so a crash leaves the store as it was and
the run marked failed; running the month again is safe (see warnings.record_warnings).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ibis
import pyarrow as pa
from sqlalchemy import Engine

from safetynet.analytics import service as analytics
from safetynet.analytics.facts import latest_versions, month_window
from safetynet.assessment import service as assessment_service
from safetynet.monitoring import engine as rules_engine
from safetynet.monitoring.catalogue import ENROLLED_TIERS, Catalogue, load_catalogue
from safetynet.monitoring.inputs import (
    WINDOW_MONTHS,
    Inputs,
    delivered_months,
    household_income_table,
    income_table,
    latest_reported,
    month_labels,
    people_table,
)
from safetynet.monitoring.warnings import check_month, finish_run, record_warnings, start_run
from safetynet.registry import service as registry_service

Progress = Callable[[str], None]
#: DuckDB's memory for a run (spills to disk beyond it). The year's income per person is one aggregate
#: of 12 sums over every earner: at 10M persons ~1 GB of state, which at the analytics default (1.5 GB)
#: spilled and took twice as long. SAFETYNET_MONITOR_MEMORY overrides it.
MEMORY_LIMIT = os.environ.get("SAFETYNET_MONITOR_MEMORY", "3GB")


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _prepare(b, engine: Engine, *, month: str, lake_dir: Path, timings: dict) -> Inputs:  # noqa: ANN001
    window_start, end, _, _ = month_window(month)
    labels = month_labels(month, WINDOW_MONTHS)
    lap = _lap(timings)
    reads: dict = {}
    cache: dict = {}

    def lake(name: str, reported: bool) -> tuple:
        """The feed's lake rows delivered up to M and whether any of them is a correction. With
        `reported`, each row also says whether it came in M's delivery (`reported_now`, see inputs.py):
        a file's delivery month is its lake folder's (month=YYYY-MM, the load ledger's month), so M's
        files are read apart from the earlier ones and marked, which costs nothing per row but a second
        scan, paid only by the event rules that need the mark (the 1M run: +0.4 s when every feed was
        read in two parts). Records of a feed's first delivery are its backlog, not late reports: their
        rows are not marked."""
        if (name, reported) not in reads:
            files = analytics.feed_files(engine, name, lake_dir=lake_dir, month=month)
            schema = analytics.feed_schema(name)
            if reported:
                now = [p for p in files if p.parent.name == f"month={month}"]
                earlier = [p for p in files if p.parent.name != f"month={month}"]
                parts = []
                if earlier or not now:  # (a feed without files: one empty table)
                    parts.append(b.from_parquet(f"mon_lake_{name}_before", earlier, schema)
                                 .mutate(reported_now=ibis.literal(False)))
                if now:
                    parts.append(b.from_parquet(f"mon_lake_{name}_now", now, schema)
                                 .mutate(reported_now=ibis.literal(bool(earlier))))
                rows = ibis.union(*parts) if len(parts) > 1 else parts[0]
            else:
                rows = b.from_parquet(f"mon_lake_{name}", files, schema)
            # Corrections are rare: a feed without any is read as it is (a scan of its version column),
            # which spares joining every row's record id against the corrected ones.
            corrected = b.to_arrow(rows.filter(rows.version > 1).select("version").limit(1)).num_rows > 0
            reads[name, reported] = rows, corrected
        return reads[name, reported]

    def feed(name: str, reported: bool = False):  # noqa: ANN202
        if (name, reported) not in cache:
            rows, corrected = lake(name, reported)
            if reported:
                rows = latest_reported(rows) if corrected else rows
            elif corrected:
                rows = latest_versions(rows)
            cache[name, reported] = rows.filter(rows.id_number.notnull())  # warnings name a person
        return cache[name, reported]

    # The store is read while the backend aggregates the year's income from the lake: the register's
    # persons (the largest read: a child process on SQLite, the driver's COPY on PostgreSQL), its
    # households, and the assessment and enrolment checks, each on its own connection.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="monitor-store") as pool:
        persons = pool.submit(analytics.registry_persons, engine, on=end, ordered=False)
        households = pool.submit(analytics.registry_households, engine, on=end)
        assessment = pool.submit(assessment_service.changed_results, engine, months=labels)
        moves = pool.submit(registry_service.overlapping_enrolments, engine, on=end, tiers=ENROLLED_TIERS)
        si = feed("social_insurance")
        income = b.materialize("mon_income", income_table(si, labels))
        seen = set(b.to_arrow(delivered_months(si, labels)).column("month").to_pylist())
        lap("income")
        h = b.from_arrow("mon_households", households.result())
        p = b.from_arrow("mon_persons", persons.result())
        lap("store_reads_wait")
        people = b.materialize("mon_people", people_table(p, h))
        lap("people")
        household_income = b.materialize("mon_household_income", household_income_table(people, income))
        assessment = b.from_arrow("mon_assessment", assessment.result())
        moves = b.from_arrow("mon_tier_moves", moves.result())
    lap("household_income")
    return Inputs(month=month, first=end.replace(day=1), end=end, window_start=window_start, labels=labels,
                  people=people, feed=feed, income=income, delivered=[label in seen for label in labels],
                  household_income=household_income, assessment=assessment, tier_moves=moves,
                  keep=b.materialize)


def _lap(timings: dict):  # noqa: ANN202
    """Record the wall seconds since the previous lap under each step's name."""
    last = [time.perf_counter()]

    def lap(step: str) -> None:
        now = time.perf_counter()
        timings[f"inputs.{step}"] = round(now - last[0], 3)
        last[0] = now
    return lap


def _counts(candidates: pa.Table) -> dict:
    rules = Counter(candidates.column("rule").to_pylist())
    levels = Counter(candidates.column("level").to_pylist())
    counties = Counter(r[:6] for r in candidates.column("region_code").to_pylist())
    return {"by_rule": dict(sorted(rules.items())), "by_level": dict(sorted(levels.items())),
            "by_county": dict(sorted(counties.items()))}


def run_month(engine: Engine, *, month: str, lake_dir: Path, actor: str, backend: str = "duckdb",
              catalogue: Catalogue | None = None, progress: Progress | None = None) -> dict:
    """Evaluate the catalogue for `month` (YYYY-MM) and record its warnings. Returns the run report:
    run_id, month, engine, counts (by rule, level and county), recorded (created/updated/unchanged),
    per-rule seconds, notes (rules that could not look, and why), seconds and peak memory."""
    check_month(month)
    if backend not in analytics.BACKENDS:
        raise ValueError(f"unknown monitoring engine {backend!r}; available: {', '.join(analytics.BACKENDS)}")
    say = progress or (lambda _msg: None)
    catalogue = catalogue or load_catalogue()
    rules_engine.check_catalogue(catalogue, month_window(month)[1])
    digest = catalogue.digest()
    t0, cpu0 = time.perf_counter(), time.process_time()
    run_id = start_run(engine, month=month, engine_name=backend, catalogue_digest=digest, actor=actor)
    lake_dir = Path(lake_dir)
    b = analytics.BACKENDS[backend](lake_dir.parent / "tmp" / "monitoring", memory_limit=MEMORY_LIMIT)
    try:
        say("reading the register, income and assessments")
        timings: dict[str, float] = {}
        x = _prepare(b, engine, month=month, lake_dir=lake_dir, timings=timings)
        timings["inputs"] = round(time.perf_counter() - t0, 3)
        parts = []
        for rule in catalogue:
            say(f"rule {rule.id}")
            t = time.perf_counter()
            fetched = b.to_arrow(rules_engine.rule_candidates(x, rule))
            parts.append(rules_engine.finish_candidates(rule, fetched))
            timings[rule.id] = round(time.perf_counter() - t, 3)
        candidates = pa.concat_tables(parts)
        say(f"recording {candidates.num_rows:,} warnings")
        t = time.perf_counter()
        recorded = record_warnings(engine, run_id=run_id, month=month, candidates=candidates,
                                   suppression={r.id: r.suppression_months for r in catalogue})
        timings["record"] = round(time.perf_counter() - t, 3)
    except BaseException:
        finish_run(engine, run_id, status="failed", seconds=time.perf_counter() - t0,
                   peak_rss_bytes=_peak_rss_bytes())
        raise
    finally:
        b.close()
    seconds = time.perf_counter() - t0
    report = {"run_id": run_id, "month": month, "engine": backend, "catalogue_digest": digest,
              "warnings": candidates.num_rows, **_counts(candidates), "recorded": recorded,
              "notes": x.notes, "timings": timings, "seconds": round(seconds, 3),
              "cpu_seconds": round(time.process_time() - cpu0, 3), "peak_rss_bytes": _peak_rss_bytes(),
              "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    finish_run(engine, run_id, seconds=seconds, peak_rss_bytes=report["peak_rss_bytes"],
               counts={k: report[k] for k in ("warnings", "by_rule", "by_level", "by_county", "recorded",
                                              "notes", "timings")})
    return report


def warning_brief(conn, *, warning_id: int) -> dict | None:  # noqa: ANN001
    """A warning's household, person (and identity number: a person the register does not hold has no
    id), need and state, for a capability that links to it (an application made from it), or None when
    there is no such warning."""
    from sqlalchemy import select

    from safetynet.monitoring.store import warnings

    w = warnings.c
    row = conn.execute(select(w.id, w.household_id, w.person_id, w.id_number, w.need, w.status, w.region_code)
                       .where(w.id == warning_id)).first()
    return dict(row._mapping) if row is not None else None
