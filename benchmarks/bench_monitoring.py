"""Time the monthly monitor run (issue 5) on a synthetic province built by bench_household_facts.py.

    uv run python benchmarks/bench_household_facts.py --persons 1000000 --months 9 --format parquet \\
        --register-from-start --dir /tmp/mon/b1m --keep          # build once (register from month 1)
    uv run python benchmarks/bench_monitoring.py --dir /tmp/mon/b1m --month 2025-09 [--engine spark]
        [--score]

Runs the whole catalogue for MONTH on a copy of the store (the build stays untouched, so runs can be
repeated), and prints wall and CPU seconds (this process and its threads: DuckDB's or the Spark JVM is
not counted in CPU, only in wall), per-rule seconds, warnings and peak memory (this process; with
Spark also the JVM's, read from /proc). `--score` runs every earlier month first and scores the
warnings against the province's truth (recall and precision per rule).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from _measure import add_months, peak_rss_gb

from safetynet.db import make_engine
from safetynet.monitoring.catalogue import load_catalogue
from safetynet.monitoring.score import score_store
from safetynet.monitoring.service import run_month


def _lake_rows(lake: Path, month: str) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in lake.rglob("*.parquet")
               if p.parent.name.startswith("month=") and p.parent.name[6:] <= month)


def _children_peak_gb() -> float:
    """The largest peak resident memory (VmHWM) among this process's living children: the Spark JVM."""
    import psutil

    peaks = [0.0]
    for child in psutil.Process().children(recursive=True):
        try:
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) * 1024 / 1e9)
        except OSError:
            continue
    return max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, required=True, help="a READY directory of bench_household_facts.py")
    ap.add_argument("--month", required=True, help="YYYY-MM to examine")
    ap.add_argument("--engine", default="duckdb", choices=("duckdb", "spark"))
    ap.add_argument("--score", action="store_true", help="run the months before too and score against truth")
    ap.add_argument("--months-before", type=int, default=0, metavar="N",
                    help="run the N months before MONTH first (MONTH then updates warnings, as in "
                         "production)")
    args = ap.parse_args()
    work: Path = args.dir
    if not (work / "READY").exists():
        raise SystemExit(f"{work} holds no finished build (READY); build it with bench_household_facts.py")
    store = work / f"monitor-{args.engine}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    shutil.copy(work / "safetynet.sqlite3", store)
    engine = make_engine(f"sqlite:///{store}")
    catalogue = load_catalogue()
    months = [add_months(args.month, -k) for k in range(args.months_before, -1, -1)]
    if args.score:
        first = "2025-01"
        months = [add_months(first, k) for k in range(100) if add_months(first, k) <= args.month]
    print(f"lake rows delivered up to {args.month}: {_lake_rows(work / 'lake', args.month):,}", flush=True)
    for month in months:
        t, c = time.perf_counter(), time.process_time()
        r = run_month(engine, month=month, lake_dir=work / "lake", actor="bench", backend=args.engine,
                      catalogue=catalogue)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"{month} [{args.engine}]: {wall:.1f} s wall, {cpu:.1f} s CPU, {r['warnings']:,} warnings "
              f"({r['recorded']}), peak RSS {peak_rss_gb():.2f} GB"
              + (f", Spark JVM peak {_children_peak_gb():.2f} GB" if args.engine == "spark" else ""),
              flush=True)
        print("  " + ", ".join(f"{k} {v:.2f}" for k, v in r["timings"].items()), flush=True)
        print(f"  by rule: {json.dumps(r['by_rule'])}", flush=True)
        for note in r["notes"]:
            print(f"  note: {note}")
    if args.score:
        s = score_store(engine, work / "synth" / "truth", catalogue)
        for row in s["rules"]:
            rec = "—" if row["recall"] is None else f"{row['recall']:.3f}"
            prec = "—" if row["precision"] is None else f"{row['precision']:.3f}"
            print(f"  {row['rule']:22s} planted {row['planted'] or 0:7,} found {row['found'] or 0:7,} "
                  f"recall {rec:>6}  warnings {row['warnings']:7,} matched {row['matched'] or 0:7,} "
                  f"precision {prec:>6}")
        o = s["overall"]
        print(f"  overall: recall {o['recall']:.4f} ({o['found']:,}/{o['planted']:,}), precision "
              f"{o['precision']:.4f} ({o['matched']:,}/{o['warnings']:,})")
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
