"""Time `analytics.service.household_facts` on a synthetic province.

    uv run python benchmarks/bench_household_facts.py --persons 200000 [--months 2] [--dir DIR]
    uv run python benchmarks/bench_household_facts.py --persons 10000000 --months 12 \\
        --format parquet --split-register 4 --dir /tmp/big10m --keep

Builds the data set under DIR unless DIR already holds a finished one (`DIR/READY`): the
province, the register imported as of the last month's end into a SQLite store, the feeds
ingested into the lake. Then times only `household_facts` for the last month, split into the
register export and the lake aggregation, with CPU time and peak memory.

An interrupted build resumes when run again with the same arguments (DIR/BUILDING).
Build steps run in child processes (one per register part, one per month of feeds) so the
memory of one step is returned before the next. `--split-register N` delivers the register
as one file pair per region-code prefix of N digits (4: per city): the whole-file import
holds ~3.7 GB per million persons, and an import only touches the households it lists
(registry.md), so per-city deliveries build the same register.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import add_months, peak_rss_gb

from safetynet.analytics import facts
from safetynet.analytics.service import household_facts
from safetynet.db import make_engine


def _run(*args: str) -> None:
    t, c = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, __file__, *args], check=True)
    what = Path(args[-1]).name if args[0] == "import" else args[-2]  # the part, or the month
    print(f"  {args[0]} {what}: {time.perf_counter() - t:.1f} s wall, "
          f"{_children_cpu() - c:.1f} s CPU", flush=True)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def split_register(src: Path, out: Path, digits: int) -> list[Path]:
    """One households/persons file pair per region prefix of `digits` digits, text kept as is.
    A finished split (no working database left in `out`) is reused."""
    import duckdb

    work_db = out / "split.duckdb"
    if out.is_dir() and not work_db.exists():
        parts = sorted(d for d in out.iterdir() if (d / "persons.csv").exists())
        if parts:
            return parts
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect(str(work_db))
    con.execute(f"SET memory_limit='2GB'; SET temp_directory='{out / 'tmp'}'")
    for name in ("households", "persons"):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{src / name}.csv', all_varchar=true, "
                    "header=true)")
    con.execute(f"ALTER TABLE households ADD COLUMN part VARCHAR; "
                f"UPDATE households SET part = substr(region, 1, {digits})")
    parts = []
    for (part,) in con.execute("SELECT DISTINCT part FROM households ORDER BY 1").fetchall():
        d = out / part
        d.mkdir()
        h_cols = ", ".join(f'h."{c}"' for c in con.table("households").columns if c != "part")
        con.execute(f"COPY (SELECT {h_cols} FROM households h WHERE part = '{part}') "
                    f"TO '{d / 'households.csv'}' (HEADER)")
        con.execute(f"COPY (SELECT * FROM persons WHERE household_id IN (SELECT household_id "
                    f"FROM households WHERE part = '{part}')) TO '{d / 'persons.csv'}' (HEADER)")
        parts.append(d)
    con.close()
    shutil.rmtree(out / "tmp", ignore_errors=True)
    work_db.unlink()
    return parts


def _imported(db: Path) -> set[str]:
    """Register folders already imported into `db` (a resumed build skips them)."""
    from sqlalchemy import select

    from safetynet.registry import store as registry_store

    t = registry_store.registry_imports
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        done = set(c.execute(select(t.c.source).where(t.c.status.in_(("loaded", "unchanged")))).scalars())
    engine.dispose()
    return done


def build(work: Path, args: argparse.Namespace, month: str) -> None:
    """Build the data set. An interrupted build (DIR/BUILDING left behind) resumes: register
    parts already imported are skipped, feed files already loaded are no-ops (feeds.md)."""
    from safetynet.bootstrap import init_database
    from safetynet.regions import service as regions_service
    from safetynet.synth.service import generate

    wanted = json.dumps({"persons": args.persons, "months": args.months, "seed": args.seed,
                         "format": args.format, "split_register": args.split_register, "month": month,
                         **({"register_from_start": True} if args.register_from_start else {})})
    marker, db = work / "BUILDING", work / "safetynet.sqlite3"
    resume = marker.exists() and db.exists()
    if resume and marker.read_text() != wanted:
        sys.exit(f"{work} holds an unfinished build of {marker.read_text()}; use another --dir")
    synth = work / "synth"
    if not resume or not (synth / "registry" / "persons.csv").exists():
        t, c = time.perf_counter(), _self_cpu()
        s = generate(persons=args.persons, months=args.months, seed=args.seed, out=synth, fmt=args.format)
        print(f"generate: {time.perf_counter() - t:.1f} s wall, {_self_cpu() - c:.1f} s CPU "
              f"({s.households:,} households, {s.total_feed_rows:,} feed rows)", flush=True)
    lake = work / "lake"
    if not resume:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(lake, ignore_errors=True)
        engine = make_engine(f"sqlite:///{db}")
        init_database(engine)
        regions_service.seed_demo_province(engine, province="37", seed=0)
        engine.dispose()
        marker.write_text(wanted)
    _, end, _, _ = facts.month_window(month)
    if args.register_from_start:  # every month's snapshot holds the register (monitoring benchmarks)
        end = dt.date(2025, 1, 1)
    parts = ([synth / "registry"] if not args.split_register else
             split_register(synth / "registry", work / "registry_parts", args.split_register))
    done = _imported(db)
    t, c = time.perf_counter(), _children_cpu()
    for part in parts:
        if str(part) not in done:
            _run("import", str(db), end.isoformat(), str(part))
    print(f"import register ({len(parts)} parts, {len(done)} done before): {time.perf_counter() - t:.1f} s "
          f"wall, {_children_cpu() - c:.1f} s CPU", flush=True)
    t, c = time.perf_counter(), _children_cpu()
    for k in range(args.months):
        stamp = add_months("2025-01", k).replace("-", "")
        _run("ingest", args.ingest_memory or "", str(db), str(lake), stamp, str(synth / "feeds"))
    print(f"ingest feeds: {time.perf_counter() - t:.1f} s wall, {_children_cpu() - c:.1f} s CPU", flush=True)
    (work / "READY").write_text(wanted)
    marker.unlink()


def _step(argv: list[str]) -> None:
    """A build step in its own process: `import DB AS_OF DIR` or `ingest MEMORY DB LAKE YYYYMM FEEDS`
    (MEMORY: the load's DuckDB memory limit, '' for the feeds default)."""
    memory = argv.pop(1) if argv[0] == "ingest" else ""
    engine = make_engine(f"sqlite:///{argv[1]}")
    if argv[0] == "import":
        from safetynet.registry import service as registry_service

        r = registry_service.import_register(engine, directory=Path(argv[3]),
                                             as_of=dt.date.fromisoformat(argv[2]), partial=True)
        print(f"    {r.status}, {len(r.errors)} invalid rows, peak RSS {peak_rss_gb():.2f} GB", flush=True)
    else:
        from safetynet.feeds import service as feeds_service

        files = sorted(p for p in Path(argv[4]).iterdir() if argv[3] in p.name)
        from safetynet.feeds import staging

        tuning = staging.Tuning(duckdb_memory=memory) if memory else None
        reports = feeds_service.ingest(engine, paths=files, lake_dir=Path(argv[2]), actor="bench",
                                       tuning=tuning)
        rows = sum(r.accepted for r in reports)
        print(f"    {len(files)} files, {rows:,} rows accepted, peak RSS {peak_rss_gb():.2f} GB", flush=True)


def measure(work: Path, month: str, compare: bool = False) -> None:
    engine = make_engine(f"sqlite:///{work / 'safetynet.sqlite3'}")
    timings: dict[str, float] = {}
    t, c, cc = time.perf_counter(), _self_cpu(), _children_cpu()
    households, persons = household_facts(engine, month=month, lake_dir=work / "lake", timings=timings)
    took, cpu, child_cpu = time.perf_counter() - t, _self_cpu() - c, _children_cpu() - cc
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(f"household_facts {month}: {took:.2f} s wall, {cpu:.1f} s CPU here + {child_cpu:.1f} s CPU in the "
          f"export child ({households.num_rows:,} households, {persons.num_rows:,} persons)")
    print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    print(f"  peak RSS {peak_rss_gb():.2f} GB (largest child {child_rss:.2f} GB)")
    if compare:
        from safetynet.analytics.service import registry_snapshot

        del households, persons
        for adbc in (True, False):
            t, c, cc = time.perf_counter(), _self_cpu(), _children_cpu()
            h, p = registry_snapshot(engine, on=facts.month_window(month)[1], adbc=adbc)
            how = "ADBC" if adbc else "SQLAlchemy rows"
            print(f"  register export {how}: {time.perf_counter() - t:.2f} s wall, {_self_cpu() - c:.2f} "
                  f"+ {_children_cpu() - cc:.2f} s CPU ({p.num_rows:,} persons)")
            del h, p


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("import", "ingest"):
        _step(sys.argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", default="mixed", help="synthetic feed format: mixed, csv or parquet")
    ap.add_argument("--split-register", type=int, default=0, metavar="N",
                    help="import the register per region prefix of N digits (4 = per city)")
    ap.add_argument("--ingest-memory", default=None, metavar="SIZE",
                    help="DuckDB memory limit of each feed load (e.g. 2GB; default: the feeds default)")
    ap.add_argument("--register-from-start", action="store_true",
                    help="import the register as of the first month's first day "
                         "(default: the last month's end)")
    ap.add_argument("--compare-export", action="store_true",
                    help="also time the register export alone, through ADBC and through SQLAlchemy rows")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_facts_"))
    work.mkdir(parents=True, exist_ok=True)
    month = add_months("2025-01", args.months - 1)
    try:
        if (work / "READY").exists():
            print(f"reusing {work}: {(work / 'READY').read_text()}")
            month = json.loads((work / "READY").read_text())["month"]
        else:
            build(work, args, month)
        measure(work, month, compare=args.compare_export)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
