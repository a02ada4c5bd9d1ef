"""Region subtree queries on the demo province (≈156k regions incl. grids).

    uv run python benchmarks/bench_regions.py [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from _databases import DEFAULT_PG, postgres_url, sqlite_url

from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.regions import service
from safetynet.regions.model import Level


def bench(url: str, label: str) -> None:
    engine = make_engine(url)
    init_database(engine)
    t = time.perf_counter()
    service.seed_demo_province(engine, province="37", seed=0)
    seeded = time.perf_counter() - t
    timings = {}
    for code, level in (("370402", None), ("3704", Level.village), ("37", Level.county)):
        runs = []
        for _ in range(20):
            t = time.perf_counter()
            n = len(service.subtree(engine, code=code, level=level))
            runs.append(time.perf_counter() - t)
        timings[f"{code}{'/' + level.value if level else ''}"] = (n, statistics.median(runs) * 1000)
    cells = "; ".join(f"{k}: {n:,} rows in {ms:.1f} ms" for k, (n, ms) in timings.items())
    print(f"| region subtree | {label} | seed demo tree {seeded:.1f} s | {cells} | {dt.date.today()} |")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default=DEFAULT_PG)
    args = ap.parse_args()
    with sqlite_url() as url:
        bench(url, "SQLite")
    with postgres_url(args.pg) as url:
        bench(url, "PostgreSQL 15")

if __name__ == "__main__":
    main()
