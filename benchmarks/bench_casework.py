"""Dispatch and the overdue sweep of the closed loop at provincial scale (issue 7).

    uv run python benchmarks/bench_casework.py --warnings 500000 [--pg] [--sweep 20000]

Records `--warnings` warnings of one month straight into a fresh database (as a monitor run records
them; spread over the demo province's villages, a fifth with a department need, none with a
registered household, so every field check goes to its township), then times `dispatch_month` — the
classified push of the whole month — and re-running it (nothing new), and `sweep_overdue` escalating
`--sweep` overdue tasks (one transaction each). At 10M persons a month raises about 510,000 warnings
(docs/benchmarks.md, monitor run), so 500,000 is the provincial case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _databases import postgres_url, sqlite_url  # noqa: E402
from _measure import peak_rss_gb  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402

from safetynet.bootstrap import init_database  # noqa: E402
from safetynet.casework import service  # noqa: E402
from safetynet.casework.store import tasks  # noqa: E402
from safetynet.db import make_engine  # noqa: E402
from safetynet.monitoring.store import monitor_runs, warning_firings, warnings  # noqa: E402
from safetynet.regions import service as regions_service  # noqa: E402
from safetynet.regions.store import regions  # noqa: E402

MONTH = "2026-10"
NEEDS = ["basic_living"] * 6 + ["integrity"] * 2 + ["medical", "education"]


def _record(engine, n: int) -> None:  # noqa: ANN001
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as c:
        villages = c.execute(select(regions.c.code).where(regions.c.level == "village")).scalars().all()
        run = c.execute(
            insert(monitor_runs)
            .values(
                month=MONTH,
                engine="duckdb",
                catalogue_digest="b" * 64,
                status="finished",
                started_at=now,
                finished_at=now,
                actor="bench",
            )
            .returning(monitor_runs.c.id)
        ).scalar_one()
    rnd = random.Random(7)
    for start in range(0, n, 50_000):
        rows, firings = [], []
        for i in range(start, min(n, start + 50_000)):
            need = rnd.choice(NEEDS)
            rows.append(
                {
                    "id": i + 1,
                    "rule": "bench",
                    "month": MONTH,
                    "last_month": MONTH,
                    "level": rnd.choice(("blue", "yellow", "orange", "red")),
                    "need": need,
                    "side": "entry",
                    "id_number": f"{i:018d}",
                    "region_code": rnd.choice(villages),
                    "status": "new",
                    "value": "1",
                    "evidence": [],
                    "first_run_id": run,
                    "last_run_id": run,
                    "fired_months": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            firings.append(
                {
                    "warning_id": i + 1,
                    "month": MONTH,
                    "run_id": run,
                    "level": "red",
                    "value": "1",
                    "evidence": [],
                }
            )
        with engine.begin() as c:
            c.execute(insert(warnings), rows)
            c.execute(insert(warning_firings), firings)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warnings", type=int, default=100_000)
    ap.add_argument("--sweep", type=int, default=5_000, help="overdue tasks the sweep escalates")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL instead of the embedded SQLite")
    args = ap.parse_args()
    with postgres_url() if args.pg else sqlite_url() as url:
        engine = make_engine(url)
        init_database(engine)
        regions_service.seed_demo_province(engine, province="37", seed=0)
        t = time.perf_counter()
        _record(engine, args.warnings)
        print(f"recorded {args.warnings:,} warnings in {time.perf_counter() - t:.1f} s", flush=True)
        at = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)
        t = time.perf_counter()
        out = service.dispatch_month(engine, month=MONTH, now=at)
        dispatch_s = time.perf_counter() - t
        t = time.perf_counter()
        again = service.dispatch_month(engine, month=MONTH, now=at)
        again_s = time.perf_counter() - t
        with engine.begin() as c:  # make `--sweep` tasks overdue
            ids = c.execute(select(tasks.c.id).order_by(tasks.c.id).limit(args.sweep)).scalars().all()
            for i in range(0, len(ids), 10_000):
                c.execute(
                    update(tasks)
                    .where(tasks.c.id.in_(ids[i : i + 10_000]))
                    .values(deadline_at=at + dt.timedelta(days=1))
                )
        t = time.perf_counter()
        swept = service.sweep_overdue(engine, now=at + dt.timedelta(days=2))
        sweep_s = time.perf_counter() - t
        engine.dispose()
    result = {
        "database": "postgresql" if args.pg else "sqlite",
        "warnings": args.warnings,
        "tasks": out["tasks"],
        "dispatch_s": round(dispatch_s, 1),
        "tasks_per_s": round(out["tasks"] / dispatch_s),
        "rerun_s": round(again_s, 1),
        "rerun_tasks": again["tasks"],
        "sweep_escalated": swept["escalated"],
        "sweep_s": round(sweep_s, 1),
        "escalations_per_s": round(swept["escalated"] / sweep_s) if sweep_s else None,
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "machine": f"{platform.machine()} {platform.processor() or ''}",
        "date": dt.date.today().isoformat(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
