"""Time a batch assessment run (`assessment.service.run_assessment`) on a synthetic province.

    uv run python benchmarks/bench_assessment_run.py --persons 200000 [--months 2]
        [--database sqlite|postgres] [--runs 2] [--dir DIR]

Generates the province, imports the register (as of the last month's end), its standards and
feeds into a fresh database, then runs the assessment of the last month `--runs` times and
prints each run's split: facts (register snapshot + lake, analytics), assess (standards +
rules, one vectorised simulation), write (result rows, one transaction). Setup times are
printed for orientation only.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _databases import postgres_url, sqlite_url
from _measure import add_months, peak_rss_gb

from safetynet.analytics import facts
from safetynet.assessment import service
from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.feeds import service as feeds_service
from safetynet.regions import service as regions_service
from safetynet.registry import service as registry_service
from safetynet.standards import service as standards_service
from safetynet.synth.service import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=2, help="assessment runs to time (each one is kept)")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_assessment_"))
    work.mkdir(parents=True, exist_ok=True)
    month = add_months("2025-01", args.months - 1)
    _, end, _, _ = facts.month_window(month)
    try:
        t = time.perf_counter()
        synth = work / f"synth_{args.persons}_{args.months}_{args.seed}"
        if not (synth / "registry").exists():
            s = generate(persons=args.persons, months=args.months, seed=args.seed, out=synth)
            print(f"generate: {time.perf_counter() - t:.1f} s ({s.households:,} households)")
        with sqlite_url() if args.database == "sqlite" else postgres_url() as url:
            engine = make_engine(url)
            init_database(engine)
            regions_service.seed_demo_province(engine, province="37", seed=0)
            t = time.perf_counter()
            registry_service.import_register(engine, directory=synth / "registry", as_of=end, partial=True)
            standards_service.import_standards(engine, path=synth / "standards" / "standards.csv")
            lake = work / "lake"
            shutil.rmtree(lake, ignore_errors=True)
            feeds_service.ingest(engine, paths=[synth / "feeds"], lake_dir=lake, actor="bench")
            print(f"import register, standards, feeds: {time.perf_counter() - t:.1f} s")
            for i in range(args.runs):
                t = time.perf_counter()
                run = service.run_assessment(engine, month=month, actor="bench", lake_dir=lake)
                took = time.perf_counter() - t
                s = run["timings"]
                print(f"run {i + 1} ({args.database}, {month}): {took:.1f} s total — "
                      f"facts {s['facts']:.1f} s, assess {s['assess']:.1f} s, write {s['write']:.1f} s; "
                      f"{run['households']:,} households, {run['persons']:,} persons, "
                      f"{run['changed']:,} changed; peak RSS {peak_rss_gb():.2f} GB")
            engine.dispose()
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
