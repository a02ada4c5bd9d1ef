"""Ingesting department feed files: ledger, duplicates and corrections, quarantine, lake.

One file is one transaction. Crash safety: the Parquet is written under a temporary name
and renamed into place *before* the ledger, record index and quarantine are committed
together; lake files are named by the file's digest, so a load that crashed before its
commit is simply redone by the next run over the same file, which overwrites the orphan.
Readers take only the lake files the ledger lists (`lake_files`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from safetynet.db import bulk_insert, bulk_update, fetch_by_keys, lock_for_import
from safetynet.errors import InputFileError
from safetynet.feeds import store, validate
from safetynet.feeds.model import Feed, parse_file_name
from safetynet.tabular import file_digest, read_table

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
        """Exactly the keys of shared/spec/feeds.md."""
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


def ingest(engine: Engine, *, paths: Iterable[Path], lake_dir: Path, actor: str,
           progress: Progress | None = None) -> list[LoadReport]:
    """Load each file (one transaction per file). A bad file name raises FeedFileNameError
    before anything is loaded."""
    files = expand_paths(paths)
    names = [parse_file_name(p.name) for p in files]  # all names checked up front
    reports = []
    for i, (path, name) in enumerate(zip(files, names, strict=True)):
        if progress:
            progress(path.name, i, len(files))
        reports.append(_ingest_one(engine, path, name.feed, name.month, Path(lake_dir), actor))
    if progress:
        progress("", len(files), len(files))
    return reports


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


def _ingest_one(engine: Engine, path: Path, feed: Feed, month: str, lake_dir: Path,
                actor: str) -> LoadReport:
    digest = file_digest(path)
    with engine.connect() as conn:
        prior = store.loaded_by_digest(conn, digest)
    if prior:
        return _unchanged(path, month, prior)
    try:
        tf = read_table(path, feed.contract_columns())
    except InputFileError as e:
        return _reject(engine, path, digest, feed, month, actor, e)
    checked = validate.check(feed, tf.table)
    try:
        with engine.begin() as conn:
            lock_for_import(conn, "feeds")
            prior = store.loaded_by_digest(conn, digest)
            if prior:  # another process loaded it meanwhile
                return _unchanged(path, month, prior)
            return _load(conn, path, digest, feed, month, lake_dir, actor, tf.table, checked)
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


def _existing(conn: Connection, table, feed: str, keys: list[str], where: str) -> pa.Table:  # noqa: ANN001
    rows = fetch_by_keys(conn, table, "record_id", keys, f"t.feed = '{feed}' AND {where}")
    return pa.table({
        "record_id": pa.array([r["record_id"] for r in rows], pa.string()),
        "old_digest": pa.array([r["content_digest"] for r in rows], pa.string()),
        "old_id": pa.array([r["id"] for r in rows], pa.int64()),
        "old_version": pa.array([r.get("version", 0) for r in rows], pa.int64()),
    })


def _classify(conn: Connection, feed: Feed, table: pa.Table, checked: validate.Checked) -> dict:
    """Masks (numpy bool per row): duplicate, conflict (repeat in file with other content),
    plus the existing version each row replaces."""
    n = table.num_rows
    rid = table.column("record_id").combine_chunks()
    idx = pa.array(np.arange(n, dtype=np.int64))
    keyed = pa.table({"record_id": rid, "i": idx, "d": checked.digests}).filter(pc.is_valid(rid))
    first = keyed.group_by("record_id").aggregate([("i", "min")]).rename_columns(["record_id", "first"])
    joined = keyed.join(first, "record_id").sort_by("i")
    rows = joined.column("i").to_numpy()
    first_i = joined.column("first").to_numpy()
    same = np.asarray(checked.digests.take(pa.array(first_i)).to_numpy(zero_copy_only=False)
                      == joined.column("d").to_numpy(zero_copy_only=False), dtype=bool)
    repeat = np.zeros(n, dtype=bool)
    repeat[rows] = first_i != rows
    dup = np.zeros(n, dtype=bool)
    dup[rows[(first_i != rows) & same]] = True
    conflict = repeat & ~dup
    first_line = np.zeros(n, dtype=np.int64)
    first_line[rows] = first_i + 2

    keys = pc.unique(keyed.column("record_id")).to_pylist()
    old_version = np.zeros(n, dtype=np.int64)
    old_id = np.full(n, -1, dtype=np.int64)
    for source, where in ((store.feed_records, "t.is_current"),
                          (store.quarantine, "t.resolved_at IS NULL")):
        existing = _existing(conn, source, feed.name, keys, where)
        if existing.num_rows == 0:
            continue
        m = keyed.join(existing, "record_id", join_type="inner")
        i = m.column("i").to_numpy()
        seen = np.asarray(m.column("d").to_numpy(zero_copy_only=False)
                          == m.column("old_digest").to_numpy(zero_copy_only=False), dtype=bool)
        dup[i[seen]] = True
        if source is store.feed_records:
            changed = i[~seen]
            old_version[changed] = m.column("old_version").to_numpy()[~seen]
            old_id[changed] = m.column("old_id").to_numpy()[~seen]
    conflict &= ~dup
    return {"dup": dup, "conflict": conflict, "first_line": first_line,
            "old_version": old_version, "old_id": old_id}


def _load(conn: Connection, path: Path, digest: str, feed: Feed, month: str, lake_dir: Path,
          actor: str, table: pa.Table, checked: validate.Checked) -> LoadReport:
    n = table.num_rows
    load_id = conn.execute(insert(store.feed_loads).returning(store.feed_loads.c.id),
                           _ledger_row(path, digest, feed, month, actor)).scalar_one()
    c = _classify(conn, feed, table, checked)
    checked.problems.append(validate.Problem(
        "record_id", c["conflict"], "record_id repeats an earlier line of this file with different content"))
    bad = checked.bad_mask(n) & ~c["dup"]
    good = ~bad & ~c["dup"]
    corrected = good & (c["old_id"] >= 0)
    lines = np.arange(n, dtype=np.int64) + 2

    # --- the lake: accepted rows, typed, written under a temp name then renamed ------------
    lake_path = None
    accepted_idx = np.flatnonzero(good)
    if len(accepted_idx):
        take = pa.array(accepted_idx)
        out = checked.typed.take(take)
        out = out.append_column("version", pa.array((c["old_version"][accepted_idx] + 1).astype(np.int32)))
        out = out.append_column("load_id", pa.array(np.full(len(accepted_idx), load_id, dtype=np.int64)))
        out = out.append_column("line", pa.array(lines[accepted_idx].astype(np.int32)))
        target = lake_dir / feed.name / f"month={month}" / f"load-{digest[:16]}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        pq.write_table(out, tmp)
        os.replace(tmp, target)
        lake_path = str(target)

    try:
        _record(conn, feed, month, load_id, table, checked, c, good, bad, corrected, lines, accepted_idx)
        errors = _errors(checked, table, bad, c)
        counts = {"rows": n, "accepted": int(good.sum()), "linked": 0, "quarantined": int(bad.sum()),
                  "duplicate": int(c["dup"].sum()), "corrected": int(corrected.sum())}
        conn.execute(update(store.feed_loads).where(store.feed_loads.c.id == load_id).values(
            status="loaded", loaded_digest=digest, errors=errors[:MAX_REPORTED_ERRORS],
            lake_path=lake_path, finished_at=_now(), **counts))
    except BaseException:
        # the transaction rolls back; the orphan file would be overwritten by a re-run anyway
        if lake_path:
            Path(lake_path).unlink(missing_ok=True)
        raise
    return LoadReport(path.name, feed.name, month, "loaded", errors=errors[:MAX_REPORTED_ERRORS],
                      load_id=load_id, **counts)


def _record(conn: Connection, feed: Feed, month: str, load_id: int, table: pa.Table,
            checked: validate.Checked, c: dict, good: np.ndarray, bad: np.ndarray,
            corrected: np.ndarray, lines: np.ndarray, accepted_idx: np.ndarray) -> None:
    """The record index (new versions current, replaced versions kept as history) and the
    quarantine, inside the load's transaction."""
    old = c["old_id"][corrected]
    if len(old):
        bulk_update(conn, store.feed_records, [{"id": int(i), "is_current": False} for i in old])
    if len(accepted_idx):
        take = pa.array(accepted_idx)
        rows = pa.table({
            "feed": pa.array(np.full(len(accepted_idx), feed.name, dtype=object), pa.string()),
            "record_id": table.column("record_id").take(take),
            "content_digest": checked.digests.take(take),
            "version": pa.array(c["old_version"][accepted_idx] + 1),
            "month": pa.array(np.full(len(accepted_idx), month, dtype=object), pa.string()),
            "load_id": pa.array(np.full(len(accepted_idx), load_id, dtype=np.int64)),
            "line": pa.array(lines[accepted_idx]),
            "id_number": checked.typed.column("id_number").take(take),
            "is_current": pa.array(np.ones(len(accepted_idx), dtype=bool)),
        }).to_pylist()
        bulk_insert(conn, store.feed_records, rows)
    bad_idx = np.flatnonzero(bad)
    if len(bad_idx):
        messages = validate.row_messages(checked, table, bad_idx)
        raw = table.take(pa.array(bad_idx)).to_pylist()
        digests = checked.digests.take(pa.array(bad_idx)).to_pylist()
        conn.execute(insert(store.quarantine), [
            {"load_id": load_id, "feed": feed.name, "record_id": r.get("record_id"),
             "content_digest": d, "line": int(i) + 2,
             "reason": "; ".join(f"{col}: {why}" for col, why in messages[int(i)]), "row": r}
            for i, r, d in zip(bad_idx, raw, digests, strict=True)])


def _errors(checked: validate.Checked, table: pa.Table, bad: np.ndarray, c: dict) -> list[dict]:
    bad_idx = np.flatnonzero(bad)[:MAX_REPORTED_ERRORS]
    messages = validate.row_messages(checked, table, bad_idx)
    out = []
    for i in bad_idx:
        for col, why in messages[int(i)]:
            if col == "record_id" and c["conflict"][i]:
                why = f"{why} (line {int(c['first_line'][i])})"
            out.append({"line": int(i) + 2, "column": col, "reason": why})
    return out


def lake_files(engine: Engine, feed: str) -> list[Path]:
    """The committed lake files of a feed: the only ones a reader may take."""
    q = select(store.feed_loads.c.lake_path).where(
        store.feed_loads.c.feed == feed, store.feed_loads.c.status == "loaded",
        store.feed_loads.c.lake_path.is_not(None)).order_by(store.feed_loads.c.id)
    with engine.connect() as conn:
        return [Path(r[0]) for r in conn.execute(q)]


def quarantined_rows(engine: Engine, *, load_id: int) -> list[dict]:
    qt = store.quarantine
    q = select(qt).where(qt.c.load_id == load_id).order_by(qt.c.line)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def current_records(engine: Engine, *, feed: str) -> list[dict]:
    q = select(store.feed_records).where(store.feed_records.c.feed == feed).order_by(
        store.feed_records.c.record_id, store.feed_records.c.version)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
