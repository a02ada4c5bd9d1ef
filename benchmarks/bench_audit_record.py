"""What one audit row costs (`audit.record`), on SQLite and PostgreSQL.

    uv run python benchmarks/bench_audit_record.py [--rows 3000] [--threads 4] [--pg]

Three ways rows are written in the platform, each timed over `--rows` rows into a fresh, migrated
database:
- `engine`: `record(engine, ...)`, a transaction of its own (a denied request, a sign-in);
- `autocommit`: `record(None, conn=c)` on an autocommit connection (the household and person detail
  reads: the audit row is written after the read, outside a transaction);
- `threads`: `--threads` threads doing `autocommit` at once (writers queue for the chain head).
Prints rows/s and µs a row for each, as JSON on the last line. With `--no-fsync` commits do not
wait for the disk (SQLite synchronous=OFF, PostgreSQL synchronous_commit=off): what is left is the
work and the round trips of `record` itself, steady even when other work keeps the disk busy.

Measured 2026-12-07 (2 cores, other test runs sharing the machine and its disk; medians of three
interleaved runs, rows/s), before the hash chain → with it:
- no fsync, SQLite: autocommit 16,200 → 12,900 (62 → 78 µs a row), own transaction 10,600 → 8,900,
  4 threads 14,000 → 10,000;
- no fsync, PostgreSQL: autocommit 4,300 → 1,700–2,200 (0.23 → 0.45–0.6 ms: the head's UPDATE and
  the write with COMMIT, two round trips and a transaction where one autocommit INSERT was), own
  transaction 2,800 → 2,100, 4 threads 4,600 → 1,800 (writers queue for the head);
- with fsync the commit's flush dominates and varied tenfold between runs on the shared disk
  (SQLite autocommit ~3,700 → ~3,400; PostgreSQL 300–2,300 either way). Writers hold the head
  through their commit, so on PostgreSQL audit rows are written at most one flush at a time.
`audit verify`: about 50,000 rows/s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _databases import postgres_url, sqlite_url  # noqa: E402

from safetynet.audit import service as audit  # noqa: E402
from safetynet.bootstrap import upgrade  # noqa: E402
from safetynet.db import make_engine  # noqa: E402

FIELDS = ["monthly_benefit_fen", "support_form", "care_level"]


class _Actor:
    username, role, region_code = "caseworker1", "township_caseworker", "370402001000"


def _one(engine, conn, i: int) -> None:  # noqa: ANN001
    audit.record(engine if conn is None else None, conn=conn, actor=_Actor, action="read",
                 object_type="household", object_id=f"H{i:010d}", fields=FIELDS, purpose="household detail")


def _timed(n: int, work) -> dict:  # noqa: ANN001
    t = time.perf_counter()
    work()
    s = time.perf_counter() - t
    return {"rows": n, "seconds": round(s, 3), "rows_per_s": round(n / s), "us_per_row": round(s / n * 1e6)}


def _no_fsync(dbapi_connection, _record) -> None:  # noqa: ANN001
    cur = dbapi_connection.cursor()
    if hasattr(dbapi_connection, "pgconn"):
        cur.execute("SET synchronous_commit = off")
        dbapi_connection.commit()
    else:
        cur.execute("PRAGMA synchronous=OFF")
    cur.close()


def run(url: str, rows: int, threads: int, *, fsync: bool = True) -> dict:
    import os

    from sqlalchemy import event

    os.environ.setdefault("SAFETYNET_SECRET_KEY", "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMzI=")
    engine = make_engine(url)
    if not fsync:
        event.listen(engine, "connect", _no_fsync)  # after make_engine's own pragmas
    upgrade(engine)
    out = {}
    for i in range(50):  # warm up: pool, prepared statements, caches
        _one(engine, None, i)

    def engine_mode() -> None:
        for i in range(rows):
            _one(engine, None, i)

    def autocommit_mode() -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for i in range(rows):
                _one(None, c, i)

    def threaded() -> None:
        def worker(k: int) -> None:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for i in range(k, rows, threads):
                    _one(None, c, i)
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    out["engine"] = _timed(rows, engine_mode)
    out["autocommit"] = _timed(rows, autocommit_mode)
    out[f"threads_{threads}"] = _timed(rows, threaded)
    if hasattr(audit, "verify"):
        t = time.perf_counter()
        report = audit.verify(engine)
        out["verify"] = {"rows": report.rows, "ok": report.ok, "seconds": round(time.perf_counter() - t, 3)}
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL instead of the embedded SQLite")
    ap.add_argument("--no-fsync", action="store_true", help="commits without waiting for the disk")
    args = ap.parse_args()
    with (postgres_url() if args.pg else sqlite_url()) as url:
        result = run(url, args.rows, args.threads, fsync=not args.no_fsync)
    result = {"database": "postgresql" if args.pg else "sqlite", "fsync": not args.no_fsync,
              "machine": platform.machine(),
              "python": platform.python_version(), **result}
    for mode, r in result.items():
        if isinstance(r, dict):
            print(f"{mode:>12}: {r}", flush=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
