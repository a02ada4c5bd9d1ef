"""Time the verification report (家庭经济状况核对) of single households on a synthetic province.

    uv run python benchmarks/bench_verification.py --persons 200000 [--months 12] [--reports 50]
        [--dir DIR]

Builds (or, with `--dir` holding an earlier build, reuses) a province: synthetic register
imported into SQLite, every feed ingested into the lake. Then records an authorisation for
`--reports` households drawn at random and times `verification.service.report` for each with
every scope authorised: the 12-month window's rows of all members from every feed (one
equality scan per member and feed over the lake files, pruned by row-group statistics).
Prints p50/p95/max seconds per report and the lake's size, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _measure import add_months, peak_rss_gb
from sqlalchemy import select

from safetynet.analytics import facts
from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.feeds import service as feeds_service
from safetynet.feeds import store as feeds_store
from safetynet.regions import service as regions_service
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from safetynet.synth.service import generate
from safetynet.verification import model, service


def build(work: Path, *, persons: int, months: int, seed: int) -> None:
    """Generate, import and ingest unless `work` already holds a finished build."""
    done = work / "built"
    if done.exists():
        return
    month = add_months("2025-01", months - 1)
    _, end, _, _ = facts.month_window(month)
    t = time.perf_counter()
    generate(persons=persons, months=months, seed=seed, out=work / "synth")
    db = work / "safetynet.sqlite3"
    db.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    init_database(engine)
    regions_service.seed_demo_province(engine, province="37", seed=0)
    registry_service.import_register(engine, directory=work / "synth" / "registry", as_of=end, partial=True)
    shutil.rmtree(work / "lake", ignore_errors=True)
    feeds_service.ingest(engine, paths=[work / "synth" / "feeds"], lake_dir=work / "lake", actor="bench")
    engine.dispose()
    done.write_text(month)
    print(f"built the province in {time.perf_counter() - t:.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reports", type=int, default=50)
    ap.add_argument("--dir", type=Path, default=None, help="work directory, reused when it holds a build")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_verify_"))
    work.mkdir(parents=True, exist_ok=True)
    build(work, persons=args.persons, months=args.months, seed=args.seed)
    month = (work / "built").read_text().strip()
    _, end, _, _ = facts.month_window(month)
    on = end + dt.timedelta(days=1)
    engine = make_engine(f"sqlite:///{work / 'safetynet.sqlite3'}")
    with engine.connect() as conn:
        numbers = [r[0] for r in conn.execute(select(registry_store.households.c.household_no))]
        lake_rows = sum(r["rows"] for f in conn.execute(select(feeds_store.feed_lake_files.c.feed).distinct())
                        for r in feeds_store.registered_files(conn, f[0]))
    picked = random.Random(args.seed).sample(numbers, min(args.reports, len(numbers)))
    times, members = [], 0
    for no in picked:
        service.authorise(engine, household_no=no, signed_on=end, scope=list(model.SCOPES),
                          signer_name="户主", document_ref=f"bench-{no}", actor="bench", today=on)
        t = time.perf_counter()
        r = service.report(engine, household_no=no, lake_dir=work / "lake", actor="bench", month=month,
                           scope=list(model.SCOPES), on=on)
        times.append(time.perf_counter() - t)
        members += len(r["members"])
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    print(f"| verification report | {args.persons:,} persons, {len(numbers):,} households, "
          f"{lake_rows:,} lake rows ({args.months} months) | {len(times)} reports, {members} members | "
          f"p50 {statistics.median(times) * 1000:.0f} ms | p95 {p95 * 1000:.0f} ms | "
          f"max {times[-1] * 1000:.0f} ms | peak RSS {peak_rss_gb():.2f} GB | {dt.date.today()} |")
    engine.dispose()
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
