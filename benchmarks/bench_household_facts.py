"""Time `analytics.service.household_facts` on a synthetic province.

    uv run python benchmarks/bench_household_facts.py --persons 200000 [--months 2] [--dir DIR]

Generates the province, imports the register (as of the last month's end) and ingests the
feeds into a fresh SQLite database under DIR, then times only `household_facts` for the last
month. Generation, import and ingestion times are printed too, for orientation.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _measure import add_months

from safetynet.analytics import facts
from safetynet.analytics.service import household_facts
from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.feeds import service as feeds_service
from safetynet.regions import service as regions_service
from safetynet.registry import service as registry_service
from safetynet.synth.service import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_facts_"))
    work.mkdir(parents=True, exist_ok=True)
    month = add_months("2025-01", args.months - 1)
    _, end, _, _ = facts.month_window(month)
    try:
        t = time.perf_counter()
        s = generate(persons=args.persons, months=args.months, seed=args.seed, out=work / "synth")
        print(f"generate: {time.perf_counter() - t:.1f} s ({s.households:,} households, "
              f"{s.total_feed_rows:,} feed rows)")
        db = work / "safetynet.sqlite3"
        db.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db}")
        init_database(engine)
        regions_service.seed_demo_province(engine, province="37", seed=0)
        t = time.perf_counter()
        registry_service.import_register(engine, directory=work / "synth" / "registry", as_of=end,
                                         partial=True)
        print(f"import register: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        lake = work / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        feeds_service.ingest(engine, paths=[work / "synth" / "feeds"], lake_dir=lake, actor="bench")
        print(f"ingest feeds: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        households, persons = household_facts(engine, month=month, lake_dir=lake)
        took = time.perf_counter() - t
        print(f"household_facts {month}: {took:.2f} s ({households.num_rows:,} households, "
              f"{persons.num_rows:,} persons)")
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
