"""Time the synthetic province generator and its peak memory.

    uv run python benchmarks/bench_synth.py --persons 1000000 [--months 12] [--format mixed]

Writes into a temporary directory under /tmp (removed afterwards unless --keep) and prints
one Markdown table row to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

from safetynet.synth.service import generate


class PeakRss:
    """Samples the process's resident set size; ru_maxrss is the kernel's exact figure."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._proc = psutil.Process(os.getpid())
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        kernel_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        self.peak = max(self.peak, kernel_peak)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", default="mixed", choices=("mixed", "csv", "parquet"))
    ap.add_argument("--out", type=Path, default=None, help="directory (default: temporary)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_synth_", dir="/tmp"))
    free = shutil.disk_usage(out).free
    print(f"writing to {out} ({free / 1e9:.0f} GB free)")
    last = [time.perf_counter()]

    def progress(what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            print(f"  {done}/{total} {what}", flush=True)
            last[0] = now

    try:
        with PeakRss() as rss:
            t0 = time.perf_counter()
            s = generate(persons=args.persons, months=args.months, seed=args.seed, out=out,
                         fmt=args.format, progress=progress)
            seconds = time.perf_counter() - t0
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(out, ignore_errors=True)

    print(f"persons {s.persons:,}, households {s.households:,}, outside the register "
          f"{s.outside_persons:,}")
    print("feed rows: " + ", ".join(f"{k} {v:,}" for k, v in s.feed_rows.items()))
    print(f"events: {sum(s.events.values()):,}, damaged ids: {s.bad_ids:,}, files: {s.files:,}")
    cpu = f"{psutil.cpu_count()} cores"
    print("\n| generator | persons × months | format | seconds | peak RSS | feed rows | "
          "rows/person/year | on disk | machine |")
    print(f"| synth | {s.persons:,} × {s.months} | {args.format} | {seconds:,.1f} | "
          f"{rss.peak / 1e9:.1f} GB | {s.total_feed_rows / 1e6:,.1f} M | "
          f"{s.total_feed_rows / s.persons * 12 / s.months:.1f} | {s.bytes / 1e9:.2f} GB | "
          f"{cpu}, Python {platform.python_version()} |")


if __name__ == "__main__":
    main()
