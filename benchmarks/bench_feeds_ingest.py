"""Feed ingest throughput: one CSV and one Parquet delivery of N rows each.

    uv run python benchmarks/bench_feeds_ingest.py --rows 2000000 [--pg]

Rows are generated vectorised (valid id numbers, realistic columns); the time is the
whole `ingest` of one file: read, validate, classify against the record index, write the
lake Parquet, commit ledger + record index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from _databases import postgres_url, sqlite_url

from safetynet import identity
from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.feeds import service


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    days = np.char.zfill(rng.integers(1, 29, n).astype(str), 2)
    months = np.char.zfill(rng.integers(1, 13, n).astype(str), 2)
    years = rng.integers(1940, 2010, n).astype(str)
    seq = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3)
    bodies = np.char.add(np.char.add(np.char.add("370402", years), np.char.add(months, days)), seq)
    return np.char.add(bodies, identity.check_digits(bodies.astype("S17")).astype(str))


def medical(n: int) -> pa.Table:
    rng = np.random.default_rng(1)
    cost = rng.integers(100, 5_000_000, n)
    return pa.table({
        "record_id": np.char.add("M", np.arange(n).astype(str)), "id_number": _ids(rng, n),
        "name": np.full(n, "张三"), "settled_on": np.full(n, "2025-03-15"),
        "kind": rng.choice(["inpatient", "outpatient", "chronic", "critical"], n),
        "total_cost": (cost / 100).astype(str), "fund_paid": (cost * 0.6 // 100).astype(str),
        "out_of_pocket": (cost * 0.4 // 100).astype(str), "diagnosis_group": np.full(n, "J00"),
    })


def social_insurance(n: int) -> pa.Table:
    rng = np.random.default_rng(2)
    return pa.table({
        "record_id": np.char.add("S", np.arange(n).astype(str)), "id_number": _ids(rng, n),
        "name": np.full(n, "李四"), "month": np.full(n, "2025-03"),
        "kind": rng.choice(["wage", "pension", "unemployment_benefit"], n),
        "employer": np.full(n, "某单位"), "amount": (rng.integers(10_000, 900_000, n) / 100).astype(str),
    })


def bench(url: str, label: str, rows: int, work: Path) -> None:
    engine = make_engine(url)
    init_database(engine)
    csv_file = work / "medical_202503.csv"
    pq_file = work / "social_insurance_202503.parquet"
    pacsv.write_csv(medical(rows), csv_file)
    pq.write_table(social_insurance(rows), pq_file)
    for f in (csv_file, pq_file):
        t = time.perf_counter()
        report = service.ingest(engine, paths=[f], lake_dir=work / "lake", actor="bench")[0]
        s = time.perf_counter() - t
        assert report.status == "loaded" and report.accepted == rows, report.as_dict()
        print(f"| feed ingest | {label} | {f.suffix[1:]} | {rows:,} rows | {s:.1f} s | "
              f"{rows / s:,.0f} rows/s | {dt.date.today()} |")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, sqlite_url() as url:
        bench(url, "SQLite", args.rows, Path(d))
    if args.pg:
        with tempfile.TemporaryDirectory() as d, postgres_url() as url:
            bench(url, "PostgreSQL 15", args.rows, Path(d))


if __name__ == "__main__":
    main()
