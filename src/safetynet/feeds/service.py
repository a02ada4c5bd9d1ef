"""Ingesting department feed files: ledger, duplicates and corrections, quarantine, lake.

One file is one transaction, and one loader per feed at a time. The record index is the
lake itself: every lake file carries `record_id`, `content_digest` and `version` per row,
and duplicates and corrections are found by one DuckDB join of the new file against the
feed's committed lake files (no per-row rows in the database). The database keeps the
ledger, the register of committed lake files (`feed_lake_files`) and the quarantine.

The rows are read and validated in batches on a small thread pool and staged to disk before
the load takes the feed's lock; classification and the lake file (sorted by id_number, so a
one-person lookup skips row groups) are DuckDB queries over the staging file, so memory is
bounded by a few batches and DuckDB's limit, not by the file (`staging`).

Crash safety: the Parquet is written under a temporary name and renamed into place, then
registered in `feed_lake_files` in the same transaction as the ledger row and the
quarantine. Readers take only registered files (`lake_files`), so a file whose load crashed
before its commit is invisible; the next load of the feed deletes it (`sweep_orphans`), and
re-running the same file redoes the load.

Lake files are registered by their path relative to the data folder (`lake_paths`), so a data
folder copied or restored elsewhere keeps working, and its own files are never taken for orphans.
Lake folders and files are created 0700/0600 (`safetynet.files`): they hold personal data.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from safetynet.db import lock_for_import
from safetynet.errors import InputFileError, SafetynetError
from safetynet.feeds import lake_paths, staging, store
from safetynet.feeds.model import Feed, parse_file_name
from safetynet.files import private_dir, private_file
from safetynet.tabular import file_digest

# rows of a delivery classified per DuckDB query (see _classify): bounds its hash tables
CLASSIFY_BUCKET_ROWS = 1_000_000
MAX_REPORTED_ERRORS = 1000  # per file; every quarantined row is in the quarantine table
Progress = Callable[[str, int, int], None]


@dataclass
class LoadReport:
    file: str
    feed: str
    month: str
    status: str  # loaded | unchanged | rejected
    rows: int = 0
    accepted: int = 0
    linked: int = 0
    quarantined: int = 0
    duplicate: int = 0
    corrected: int = 0
    errors: list[dict] = field(default_factory=list)
    load_id: int | None = None

    def as_dict(self) -> dict:
        """Exactly the keys of docs/contracts/feeds.md."""
        return {"file": self.file, "feed": self.feed, "month": self.month, "status": self.status,
                "rows": self.rows, "accepted": self.accepted, "linked": self.linked,
                "quarantined": self.quarantined, "duplicate": self.duplicate,
                "corrected": self.corrected, "errors": self.errors}


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders contribute their .csv/.xlsx/.parquet files, sorted."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir()
                              if q.is_file() and q.suffix.lower() in (".csv", ".xlsx", ".parquet")))
        else:
            out.append(p)
    return out


@dataclass(frozen=True)
class Linking:
    """Record linkage during ingest: rows quarantined for a missing or invalid id_number are
    scored with the saved model right after their load commits: auto-linked when the best
    candidate's row-level probability is at least `threshold_auto`, sent to the review queue
    when its top candidates together reach `threshold_review`, else left quarantined
    (linkage/service.py).
    Without a saved model at `model_path` nothing is linked (`safetynet linkage run` trains one)."""
    model_path: Path
    threshold_auto: float = 0.99
    threshold_review: float = 0.5


def ingest(engine: Engine, *, paths: Iterable[Path], lake_dir: Path, actor: str,
           progress: Progress | None = None, linking: Linking | None = None,
           tuning: staging.Tuning | None = None) -> list[LoadReport]:
    """Load each file (one transaction per file). A bad file name raises FeedFileNameError
    before anything is loaded. With `linking`, each loaded file's rows awaiting linkage are
    then linked (a second transaction: if it fails they stay quarantined awaiting linkage and
    `safetynet linkage run` takes them up). `tuning`: batch size, workers, memory."""
    tuning = tuning or staging.Tuning()
    files = expand_paths(paths)
    names = [parse_file_name(p.name) for p in files]  # all names checked up front
    reports = []
    for i, (path, name) in enumerate(zip(files, names, strict=True)):
        if progress:
            progress(path.name, i, len(files))
        report = _ingest_one(engine, path, name.feed, name.month, Path(lake_dir), actor, tuning)
        if linking and report.status == "loaded" and report.quarantined:
            _link_load(engine, report, linking, Path(lake_dir), actor)
        reports.append(report)
    if progress:
        progress("", len(files), len(files))
    return reports


def _link_load(engine: Engine, report: LoadReport, linking: Linking, lake_dir: Path, actor: str) -> None:
    """Link the load's quarantined rows; the report takes the ledger's counts after it, and
    its errors keep only the rows still quarantined."""
    if not Path(linking.model_path).is_file():
        return
    from safetynet.linkage import service as linkage  # linkage builds on feeds

    linkage.link_quarantine(engine, model_path=linking.model_path, threshold_auto=linking.threshold_auto,
                            threshold_review=linking.threshold_review, lake_dir=lake_dir, actor=actor,
                            load_ids=[report.load_id], train_if_missing=False)
    loads, qt = store.feed_loads, store.quarantine
    with engine.begin() as conn:
        row = conn.execute(select(loads).where(loads.c.id == report.load_id)).mappings().one()
        if row["linked"] == 0:
            return
        still = {r[0] for r in conn.execute(select(qt.c.line).where(
            qt.c.load_id == report.load_id, qt.c.resolved_at.is_(None)))}
        errors = [e for e in row["errors"] if e["line"] in still]
        conn.execute(update(loads).where(loads.c.id == report.load_id).values(errors=errors))
    report.accepted, report.linked, report.quarantined = row["accepted"], row["linked"], row["quarantined"]
    report.errors = [e for e in report.errors if e["line"] in still]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ledger_row(path: Path, digest: str, feed: Feed, month: str, actor: str) -> dict:
    return {"file_name": path.name, "digest": digest, "feed": feed.name, "month": month,
            "status": "loading", "rows": 0, "accepted": 0, "linked": 0, "quarantined": 0,
            "duplicate": 0, "corrected": 0, "errors": [], "actor": actor, "started_at": _now()}


def _unchanged(path: Path, month: str, prior: dict) -> LoadReport:
    """The same bytes were loaded before (under this or another name): nothing changes; the
    first load's counts are shown."""
    return LoadReport(path.name, prior["feed"], month, "unchanged", prior["rows"],
                      prior["accepted"], prior["linked"], prior["quarantined"], prior["duplicate"],
                      prior["corrected"], [], prior["id"])


class _AlreadyLoaded(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, prior: dict) -> None:
        self.prior = prior


def _ingest_one(engine: Engine, path: Path, feed: Feed, month: str, lake_dir: Path, actor: str,
                tuning: staging.Tuning) -> LoadReport:
    digest = file_digest(path)
    with engine.connect() as conn:
        prior = store.loaded_by_digest(conn, digest)
    if prior:
        return _unchanged(path, month, prior)
    with staging.work_dir(lake_dir) as work:
        try:
            staged = staging.stage(path, feed, work, tuning)
        except InputFileError as e:
            return _reject(engine, path, digest, feed, month, actor, e)
        try:
            with engine.begin() as conn:
                # one loader per feed at a time (PostgreSQL: advisory lock; SQLite: the ledger
                # insert below is the transaction's first statement and takes the write lock)
                lock_for_import(conn, f"feeds:{feed.name}")
                load_id = conn.execute(insert(store.feed_loads).returning(store.feed_loads.c.id),
                                       _ledger_row(path, digest, feed, month, actor)).scalar_one()
                prior = store.loaded_by_digest(conn, digest)
                if prior:  # another process loaded it meanwhile: roll back the ledger row
                    raise _AlreadyLoaded(prior)
                return _load(conn, load_id, path, digest, feed, month, lake_dir, staged, tuning)
        except _AlreadyLoaded as e:
            return _unchanged(path, month, e.prior)
        except IntegrityError:  # lost the race on loaded_digest
            with engine.connect() as conn:
                prior = store.loaded_by_digest(conn, digest)
            if prior:
                return _unchanged(path, month, prior)
            raise


def _reject(engine: Engine, path: Path, digest: str, feed: Feed, month: str, actor: str,
            e: InputFileError) -> LoadReport:
    errors = [{"line": x.line, "column": x.column, "reason": x.reason} for x in e.errors]
    row = _ledger_row(path, digest, feed, month, actor) | {
        "status": "rejected", "errors": errors[:MAX_REPORTED_ERRORS], "finished_at": _now()}
    with engine.begin() as conn:
        load_id = conn.execute(insert(store.feed_loads).returning(store.feed_loads.c.id), row).scalar_one()
    return LoadReport(path.name, feed.name, month, "rejected", errors=errors, load_id=load_id)


# --- the record index: the lake files themselves ----------------------------------------

def resolve_lake_file(path: str | Path, lake_dir: Path, feed: str) -> Path:
    """A registered lake file (relative to the current data folder, or absolute: `lake_paths`);
    when it is not there, looked for at its place under lake_dir (a lake moved on its own)."""
    p = lake_paths.located(path)
    if p.exists():
        return p
    month, name = lake_paths.place(p)
    moved = Path(lake_dir) / feed / month / name
    if moved.exists():
        return moved
    raise SafetynetError(f"lake file {p} of the {feed} feed is registered but missing; "
                         f"restore it (or its copy under {lake_dir}) before loading more {feed} files")


def committed_files(conn: Connection, feed: str, lake_dir: Path) -> list[Path]:
    """The feed's registered lake files, as paths that exist (see `resolve_lake_file`)."""
    return [resolve_lake_file(r["path"], lake_dir, feed) for r in store.registered_files(conn, feed)]


def sweep_orphans(conn: Connection, feed: str, lake_dir: Path) -> list[Path]:
    """Delete lake files of the feed that no committed load registered (left by a load that
    crashed before its commit). Call only while holding the feed's load lock.

    A file is kept when any registered file of the feed has its place in the lake (month
    folder and name), whatever folder its registered path names: a store registered by
    absolute paths (before migration 0018, or a lake outside the data folder) that was copied
    with its data folder names the original's files, and the copy's own are the ones readers
    fall back to (`resolve_lake_file`) once the original is gone. A file name carries the load's
    digest (or the linked rows' key), so a file at a registered place is that file."""
    root = Path(lake_dir) / feed
    if not root.is_dir():
        return []
    keep = {lake_paths.place(r["path"]) for r in store.registered_files(conn, feed)}
    gone = []
    for p in root.glob("month=*/*"):
        ours = (p.suffix == ".parquet" and p.name.startswith(("load-", "link-"))) or (
            p.name.startswith(".") and p.name.endswith(".tmp"))
        if ours and lake_paths.place(p) not in keep:
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def prior_versions_sql(files: list[Path]) -> str:
    """DuckDB SQL: each record_id's current version and its content digest, over lake files."""
    listed = ", ".join(_sql_literal(str(f)) for f in files)
    return (f"SELECT record_id, max(version) AS v, arg_max(content_digest, version) AS pd "
            f"FROM read_parquet([{listed}], union_by_name = true) GROUP BY record_id")


def _unresolved_quarantine(conn: Connection, feed: str) -> pa.Table:
    qt = store.quarantine
    rows = conn.execute(select(qt.c.record_id, qt.c.content_digest).distinct().where(
        qt.c.feed == feed, qt.c.resolved_at.is_(None), qt.c.record_id.is_not(None),
        qt.c.content_digest.is_not(None))).all()
    return pa.table({"record_id": pa.array([r[0] for r in rows], pa.string()),
                     "d": pa.array([r[1] for r in rows], pa.string())})


@dataclass(frozen=True)
class _Classes:
    """What the record index says of the file's rows (bool masks per row), and, sparse, the
    first line of each conflicting row's record_id and the version each changed row replaces."""
    dup: np.ndarray  # repeats a record_id with identical content (in the file, the lake or quarantine)
    conflict: np.ndarray  # repeats a record_id of an earlier line of the file with other content
    first_line: dict[int, int]  # row → the line its record_id first appeared on (conflicts)
    replaced: pa.Table  # line, old_version: rows that correct a record already in the lake


def _classify(conn: Connection, con: duckdb.DuckDBPyConnection, feed: Feed, staged: staging.Staged,
              lake_dir: Path) -> _Classes:
    """One DuckDB query joins the file's (record_id, digest) — read back from the staging
    file — against itself, the current versions in the feed's committed lake files and the
    unresolved quarantine; it returns only the rows with something to say. The details are
    worked out only for the record_ids repeated in the file, known to the lake or in the
    quarantine (`touched`): usually few of the file's rows."""
    n = staged.rows
    files = committed_files(conn, feed.name, lake_dir)
    listed = ", ".join(_sql_literal(str(f)) for f in files)
    # The record_ids are split into buckets by hash, one query each: every hash table of a
    # query then holds a bucket's record_ids only. A monthly snapshot feed re-delivers all its
    # records, so every row is "touched", and one query over millions of (record_id, digest)
    # strings ran out of DuckDB's memory (its IN-subquery and arg_min states do not spill).
    buckets = max(1, -(-n // CLASSIFY_BUCKET_ROWS))
    mine = "TRUE" if buckets == 1 else f"hash(record_id) % {buckets} = $bucket"
    # the lake's versions of this file's record_ids only (a semi join before the grouping)
    prior = (f"SELECT record_id, max(version) AS v, arg_max(content_digest, version) AS pd "
             f"FROM read_parquet([{listed}], union_by_name = true) SEMI JOIN ids USING (record_id) "
             f"GROUP BY record_id") if files else (
        "SELECT NULL::VARCHAR AS record_id, NULL::INTEGER AS v, NULL::VARCHAR AS pd WHERE false")
    con.register("quarantined", _unresolved_quarantine(conn, feed.name))
    sql = f"""
        WITH n AS (SELECT record_id, content_digest AS d, line - 2 AS i FROM {staged.sql_source}
                   WHERE record_id IS NOT NULL AND {mine}),
             ids AS (SELECT record_id, count(*) AS k FROM n GROUP BY record_id),
             p AS ({prior}),
             q AS (SELECT DISTINCT record_id, d FROM quarantined WHERE {mine}),
             touched AS (SELECT * FROM n WHERE record_id IN (SELECT record_id FROM ids WHERE k > 1)
                         OR record_id IN (SELECT record_id FROM p) OR record_id IN (SELECT record_id FROM q)),
             f AS (SELECT record_id, min(i) AS first, arg_min(d, i) AS fd FROM touched GROUP BY record_id)
        SELECT t.i, f.first, t.d = f.fd AS same_first, p.v AS old_version,
               coalesce(t.d = p.pd, false) AS same_prior, q.record_id IS NOT NULL AS in_q
        FROM touched t JOIN f USING (record_id)
        LEFT JOIN p ON p.record_id = t.record_id
        LEFT JOIN q ON q.record_id = t.record_id AND q.d = t.d
        WHERE f.first <> t.i OR p.record_id IS NOT NULL OR q.record_id IS NOT NULL
    """
    try:
        parts = [con.execute(sql, {"bucket": b} if buckets > 1 else None).to_arrow_table()
                 for b in range(buckets)]
    finally:
        con.unregister("quarantined")
    hits = pa.concat_tables(parts)
    i = hits.column("i").to_numpy()
    first = hits.column("first").to_numpy()
    same_first = hits.column("same_first").to_numpy(zero_copy_only=False)
    same_prior = hits.column("same_prior").to_numpy(zero_copy_only=False)
    in_q = hits.column("in_q").to_numpy(zero_copy_only=False)
    has_prior = pc.is_valid(hits.column("old_version")).to_numpy(zero_copy_only=False)
    old_v = pc.fill_null(hits.column("old_version"), 0).to_numpy().astype(np.int32)

    repeat = np.zeros(n, dtype=bool)
    repeat[i] = first != i
    dup = np.zeros(n, dtype=bool)
    dup[i] = (repeat[i] & same_first) | same_prior | in_q
    conflict = repeat & ~dup
    at = conflict[i]
    changed = has_prior & ~same_prior
    replaced = pa.table({"line": pa.array((i[changed] + 2).astype(np.int32)),
                         "old_version": pa.array(old_v[changed])})
    return _Classes(dup, conflict, dict(zip(i[at].tolist(), (first[at] + 2).tolist(), strict=True)), replaced)


def lake_table(typed: pa.Table, rows: np.ndarray | None, *, digests: pa.Array, version: np.ndarray,
               load_id: int, lines: np.ndarray) -> pa.Table:
    """The lake columns of the given rows (None: all): typed contract and extra columns, then
    `version`, `load_id`, `line` and `content_digest` (the record index)."""
    if rows is not None:
        take = pa.array(rows)
        typed, digests = typed.take(take), digests.take(take)
    k = typed.num_rows
    return (typed.append_column("version", pa.array(version.astype(np.int32)))
            .append_column("load_id", pa.array(np.full(k, load_id, dtype=np.int64)))
            .append_column("line", pa.array(lines.astype(np.int32)))
            .append_column("content_digest", digests))


def write_lake_file(out: pa.Table, target: Path) -> Path:
    """Write under a temporary name and rename: a reader never sees half a file. The file
    becomes part of the lake only when the caller registers it in the same transaction
    (`register_lake_file`) and commits."""
    private_dir(target.parent)
    tmp = private_file(target.with_name(f".{target.name}.{os.getpid()}.tmp"))
    pq.write_table(out, tmp, use_dictionary=staging.lake_dictionary_columns(out.column_names))
    os.replace(tmp, target)
    return target


def register_lake_file(conn: Connection, *, load_id: int, feed: str, month: str, kind: str, path: Path,
                       rows: int) -> None:
    """Register a written lake file in the caller's transaction, by its path relative to the
    data folder (`lake_paths.stored`)."""
    conn.execute(insert(store.feed_lake_files).values(
        load_id=load_id, feed=feed, month=month, kind=kind, path=lake_paths.stored(path), rows=rows,
        created_at=_now()))


def _load(conn: Connection, load_id: int, path: Path, digest: str, feed: Feed, month: str, lake_dir: Path,
          staged: staging.Staged, tuning: staging.Tuning) -> LoadReport:
    n = staged.rows
    sweep_orphans(conn, feed.name, lake_dir)
    con = staging.connect(staged, tuning)
    try:
        c = _classify(conn, con, feed, staged, lake_dir) if n else _Classes(
            np.zeros(0, bool), np.zeros(0, bool), {}, pa.table({"line": pa.array([], pa.int32())}))
        bad = (staged.invalid | c.conflict) & ~c.dup
        good = ~bad & ~c.dup
        accepted = int(good.sum())
        corrected = int(good[c.replaced.column("line").to_numpy() - 2].sum()) if n else 0
        # --- the lake: accepted rows, typed, with their record index columns ---------------
        lake_path = None
        if accepted:
            target = lake_dir / feed.name / f"month={month}" / f"load-{digest[:16]}.parquet"
            dropped = np.flatnonzero(c.dup | c.conflict) + 2
            lake_path = staging.write_lake(con, staged, target, load_id=load_id, replaced=c.replaced,
                                           dropped=dropped, tuning=tuning)
    finally:
        con.close()
    try:
        rows = _quarantine_rows(path, feed, staged, bad, c, tuning)
        _record(conn, feed, month, load_id, rows, lake_path, accepted)
        errors = _errors(rows)
        counts = {"rows": n, "accepted": accepted, "linked": 0, "quarantined": int(bad.sum()),
                  "duplicate": int(c.dup.sum()), "corrected": corrected}
        conn.execute(update(store.feed_loads).where(store.feed_loads.c.id == load_id).values(
            status="loaded", loaded_digest=digest, errors=errors[:MAX_REPORTED_ERRORS],
            lake_path=lake_paths.stored(lake_path) if lake_path else None, finished_at=_now(), **counts))
    except BaseException:
        # the transaction rolls back; the unregistered file would be swept by the next load anyway
        if lake_path:
            lake_path.unlink(missing_ok=True)
        raise
    return LoadReport(path.name, feed.name, month, "loaded", errors=errors[:MAX_REPORTED_ERRORS],
                      load_id=load_id, **counts)


_CONFLICT = "record_id repeats an earlier line of this file with different content"


@dataclass(frozen=True)
class _Quarantined:
    row: staging.BadRow
    conflict_line: int | None  # the line where its record_id first appeared with other content

    def reasons(self, *, with_line: bool) -> list[tuple[str, str]]:
        """(column, reason) of each fault; the ledger's errors name the conflicting line."""
        if self.conflict_line is None:
            return self.row.reasons
        why = f"{_CONFLICT} (line {self.conflict_line})" if with_line else _CONFLICT
        return [*self.row.reasons, ("record_id", why)]


def _quarantine_rows(path: Path, feed: Feed, staged: staging.Staged, bad: np.ndarray, c: _Classes,
                     tuning: staging.Tuning) -> list[_Quarantined]:
    """The quarantined rows in file order: those that failed validation (kept by the staging
    pass) and the conflicting repeats (their cells are read again from the file: they are
    rare, so the staging pass does not keep every row's cells)."""
    by_index = {r.index: r for r in staged.invalid_rows}
    bad_idx = np.flatnonzero(bad).tolist()
    missing = [i for i in bad_idx if i not in by_index]
    if missing:
        by_index |= {r.index: r for r in staging.reread_rows(path, feed, staged, missing, tuning)}
    return [_Quarantined(by_index[i], c.first_line.get(i) if c.conflict[i] else None) for i in bad_idx]


def _record(conn: Connection, feed: Feed, month: str, load_id: int, rows: list[_Quarantined],
            lake_path: Path | None, accepted: int) -> None:
    """The lake file's registration and the quarantine, inside the load's transaction."""
    if lake_path is not None:
        register_lake_file(conn, load_id=load_id, feed=feed.name, month=month, kind="load", path=lake_path,
                           rows=accepted)
    if rows:
        conn.execute(insert(store.quarantine), [
            {"load_id": load_id, "feed": feed.name, "record_id": q.row.cells.get("record_id"),
             "content_digest": q.row.digest, "line": q.row.index + 2,
             "reason": "; ".join(f"{col}: {why}" for col, why in q.reasons(with_line=False)),
             "row": q.row.cells}
            for q in rows])


def _errors(rows: list[_Quarantined]) -> list[dict]:
    return [{"line": q.row.index + 2, "column": col, "reason": why}
            for q in rows[:MAX_REPORTED_ERRORS] for col, why in q.reasons(with_line=True)]


def lake_files(engine: Engine, feed: str) -> list[Path]:
    """The committed lake files of a feed, oldest first: the only ones a reader may take, as
    registered (relative paths in the current data folder; `resolve_lake_file` also looks for
    a missing one under a lake folder). Every file has `record_id` and `version`; a corrected
    record's latest version is the row with its highest `version`."""
    with engine.connect() as conn:
        return [lake_paths.located(r["path"]) for r in store.registered_files(conn, feed)]


def quarantined_rows(engine: Engine, *, load_id: int) -> list[dict]:
    qt = store.quarantine
    q = select(qt).where(qt.c.load_id == load_id).order_by(qt.c.line)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def current_records(engine: Engine, *, feed: str, lake_dir: Path | None = None) -> list[dict]:
    """Every stored version of every record of the feed (from the lake's index columns),
    ordered by record_id then version; `is_current` marks the latest version."""
    with engine.connect() as conn:
        files = store.registered_files(conn, feed)
    if not files:
        return []
    lake_dir = Path(lake_dir) if lake_dir else lake_paths.data_folder() / "lake"
    place = pa.table({
        "path": pa.array([str(resolve_lake_file(f["path"], lake_dir, feed)) for f in files]),
        "month": pa.array([f["month"] for f in files], pa.string())})
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in place.column("path").to_pylist())
    con = duckdb.connect()
    try:
        con.register("place", place)
        t = con.execute(f"""
            SELECT '{feed}' AS feed, r.record_id, r.content_digest, r.version, place.month, r.load_id,
                   r.line, r.id_number,
                   r.version = max(r.version) OVER (PARTITION BY r.record_id) AS is_current
            FROM read_parquet([{listed}], union_by_name = true, filename = true) r
            JOIN place ON place.path = r.filename
            ORDER BY r.record_id, r.version""").to_arrow_table()
    finally:
        con.close()
    return t.to_pylist()


#: the lake's own bookkeeping columns: not part of what a department delivered
LAKE_INDEX_COLUMNS = ("version", "load_id", "line", "content_digest")


def records_by_id(engine: Engine, *, refs: Iterable[tuple[str, str, str | None]], lake_dir: Path,
                  limit: int = 200) -> list[dict]:
    """The latest version of each referenced record, as delivered: refs are (feed, record_id, month);
    the month narrows the files read (a record not found in that month's files is looked for in all of
    the feed's). Each row carries `feed` and `month` besides the contract columns; unknown feeds and
    records are left out. At most `limit` rows."""
    wanted: dict[str, dict[str, set[str]]] = {}
    for feed, record_id, month in refs:
        if feed and record_id:
            wanted.setdefault(feed, {}).setdefault(str(record_id), set()).add(month or "")
    out: list[dict] = []
    con = duckdb.connect()
    try:
        with engine.connect() as conn:
            registered = {feed: store.registered_files(conn, feed) for feed in wanted}
        for feed, records in wanted.items():
            months = {m for ms in records.values() for m in ms}
            files = [f for f in registered[feed] if f["month"] in months] or registered[feed]
            if not files:
                continue
            paths = pa.table({"path": [str(resolve_lake_file(f["path"], lake_dir, feed)) for f in files],
                              "month": pa.array([f["month"] for f in files], pa.string())})
            con.register("place", paths)
            con.register("wanted", pa.table({"record_id": list(records)}))
            listed = ", ".join(_sql_literal(p) for p in paths.column("path").to_pylist())
            rows = con.execute(f"""
                SELECT r.*, place.month AS file_month
                FROM read_parquet([{listed}], union_by_name = true, filename = true) r
                JOIN place ON place.path = r.filename
                WHERE r.record_id IN (SELECT record_id FROM wanted)
                QUALIFY r.version = max(r.version) OVER (PARTITION BY r.record_id)
                ORDER BY r.record_id LIMIT {int(limit)}""").to_arrow_table().to_pylist()
            for row in rows:
                month = row.pop("file_month")
                row.pop("filename", None)
                for column in LAKE_INDEX_COLUMNS:
                    row.pop(column, None)
                out.append({"feed": feed, "month": month, **row})
    finally:
        con.close()
    return out[:limit]
