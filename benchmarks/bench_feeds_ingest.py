"""Feed ingest throughput: one CSV and one Parquet delivery of N rows each.

    uv run python benchmarks/bench_feeds_ingest.py --rows 10000000 [--pg] [--formats csv,parquet]
        [--batch-rows 262144]

Rows are generated vectorised (valid id numbers, realistic columns) in a child process;
each ingest runs in a fresh child process, so its peak RSS is the ingest's own. The time is
the whole `ingest` of one file: read and validate in batches (staged to disk), classify
against the lake's record index (DuckDB join over the feed's committed lake files), write
the lake Parquet sorted by id_number, commit the ledger; "cpu" is the process's CPU time
(all threads), comparable when the machine is busy, unlike the wall time. After the first
load of each file a second delivery of the same feed (a tenth of the records again, half
of them corrected) is timed: the incremental case, classified against the N rows already
in the lake.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import shutil
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
from safetynet.feeds import service, staging


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


def _next_month(t: pa.Table, column: str) -> pa.Table:
    """A tenth of the records again, every other one corrected (its amount changed)."""
    k = max(t.num_rows // 10, 1)
    head = t.slice(0, k)
    changed = pa.array(np.where(np.arange(k) % 2 == 0, "0.01", head.column(column).to_numpy(False)))
    return head.set_column(head.schema.get_field_index(column), column, changed)


def _generate(work: str, rows: int) -> None:
    w = Path(work)
    if not (w / "medical_202503.csv").exists():
        med = medical(rows)
        pacsv.write_csv(_next_month(med, "total_cost"), w / "medical_202504.csv")
        pacsv.write_csv(med, w / ".medical_202503.csv")
        (w / ".medical_202503.csv").rename(w / "medical_202503.csv")
        del med
    if not (w / "social_insurance_202503.parquet").exists():
        si = social_insurance(rows)
        pq.write_table(_next_month(si, "amount"), w / "social_insurance_202504.parquet")
        pq.write_table(si, w / ".social_insurance_202503.parquet")
        (w / ".social_insurance_202503.parquet").rename(w / "social_insurance_202503.parquet")


def _ingest(url: str, path: str, lake: str, batch_rows: int, out: mp.Queue) -> None:
    from _measure import peak_rss_gb

    engine = make_engine(url)
    tuning = staging.Tuning(batch_rows=batch_rows)
    t, cpu = time.perf_counter(), time.process_time()
    report = service.ingest(engine, paths=[Path(path)], lake_dir=Path(lake), actor="bench", tuning=tuning)[0]
    out.put((time.perf_counter() - t, time.process_time() - cpu, peak_rss_gb(), report.as_dict()))
    engine.dispose()


def _child(target, *args):  # noqa: ANN001, ANN002, ANN202
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q) if target is _ingest else args)
    p.start()
    result = q.get() if target is _ingest else None
    p.join()
    if p.exitcode:
        raise SystemExit(f"{target.__name__} failed with exit code {p.exitcode}")
    return result


def bench(url: str, label: str, rows: int, work: Path, formats: list[str], batch_rows: int) -> None:
    engine = make_engine(url)
    init_database(engine)
    engine.dispose()
    _child(_generate, str(work), rows)
    files = {"csv": ("medical_202503.csv", "medical_202504.csv"),
             "parquet": ("social_insurance_202503.parquet", "social_insurance_202504.parquet")}
    for fmt in formats:
        first, second = files[fmt]
        for name, expect in ((first, rows), (second, (max(rows // 10, 1) + 1) // 2)):
            s, cpu, rss, report = _child(_ingest, url, str(work / name), str(work / "lake"), batch_rows)
            n = report["rows"]
            assert report["status"] == "loaded" and report["accepted"] == expect, report
            print(f"| feed ingest | {label} | {fmt} | {name} | {n:,} rows | {s:.1f} s (cpu {cpu:.1f} s) | "
                  f"{n / s:,.0f} rows/s | peak RSS {rss:.2f} GB | accepted {report['accepted']:,} "
                  f"duplicate {report['duplicate']:,} corrected {report['corrected']:,} | "
                  f"{dt.date.today()} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    ap.add_argument("--pg-only", action="store_true", help="only on PostgreSQL")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--work", default=None,
                    help="keep the generated files in this folder and reuse them (default: a temp folder)")
    ap.add_argument("--batch-rows", type=int, default=staging.Tuning().batch_rows,
                    help="rows per batch read and validated (memory is a few batches)")
    args = ap.parse_args()
    formats = args.formats.split(",")
    for label, urls in (("SQLite", sqlite_url), ("PostgreSQL 15", postgres_url)):
        if (label == "SQLite" and args.pg_only) or (label != "SQLite" and not (args.pg or args.pg_only)):
            continue
        with tempfile.TemporaryDirectory() as d, urls() as url:
            work = Path(args.work or d) / str(args.rows)
            work.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(work / "lake", ignore_errors=True)
            bench(url, label, args.rows, work, formats, args.batch_rows)


if __name__ == "__main__":
    main()
