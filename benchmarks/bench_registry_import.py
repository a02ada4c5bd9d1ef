"""Registry import throughput on SQLite and PostgreSQL.

    uv run python benchmarks/bench_registry_import.py --persons 1000000 [--pg URL]

Generates a synthetic register (once per size, cached under /tmp), then imports it into a
fresh database, re-imports it (must be a no-op), and prints one line per database for
docs/benchmarks.md: first import seconds and rows/s, re-import seconds, peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import psutil
from _databases import DEFAULT_PG, postgres_url, sqlite_url
from _measure import peak_rss_gb

from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.regions import service as regions_service
from safetynet.registry import service
from safetynet.synth.service import generate


def _register(persons: int) -> Path:
    out = Path(f"/tmp/safetynet-bench-register-{persons}")
    if not (out / "registry" / "persons.csv").exists():
        t = time.perf_counter()
        generate(persons=persons, months=1, seed=42, out=out)
        print(f"generated register of {persons:,} persons in {time.perf_counter() - t:.1f}s")
    return out / "registry"


def bench(url: str, directory: Path, label: str) -> None:
    engine = make_engine(url)
    init_database(engine)
    regions_service.seed_demo_province(engine, province="37", seed=0)
    t = time.perf_counter()
    report = service.import_register(engine, directory=directory, as_of=dt.date(2025, 1, 1))
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = service.import_register(engine, directory=directory, as_of=dt.date(2025, 1, 1))
    second = time.perf_counter() - t
    assert again.status == "unchanged", again.counts
    n = report.counts["rows"]["persons"]
    print(f"| registry import | {label} | {n:,} persons, {report.counts['rows']['households']:,} "
          f"households | first {first:.1f} s ({n / first:,.0f} persons/s); re-import (no-op) "
          f"{second:.1f} s | peak RSS {peak_rss_gb():.2f} GB | {platform.node()} "
          f"{psutil.cpu_count()} cores | {dt.date.today()} |")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    args = ap.parse_args()
    directory = _register(args.persons)
    if args.only in (None, "sqlite"):
        with sqlite_url() as url:
            bench(url, directory, "SQLite")
    if args.only in (None, "postgres"):
        with postgres_url(args.pg) as url:
            bench(url, directory, "PostgreSQL 15")

if __name__ == "__main__":
    main()
