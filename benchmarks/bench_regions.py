"""Region subtree queries on the demo province (≈156k regions incl. grids).

    uv run python benchmarks/bench_regions.py [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

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
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    path = Path(f"/tmp/safetynet-bench-{uuid.uuid4().hex[:6]}.sqlite3")
    try:
        bench(f"sqlite:///{path}", "SQLite")
    finally:
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
    name = f"safetynet_bench_{uuid.uuid4().hex[:6]}"
    admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        bench(args.pg.rsplit("/", 1)[0] + "/" + name, "PostgreSQL 15")
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
