"""The passes of a feed load over the rows themselves: stage, then write the lake file.

`stage` reads the delivered file in batches and validates them on a small thread pool
(Arrow compute, numpy and DuckDB release the GIL, so both cores work), writing every row's
typed lake columns with its `line`, `content_digest` and validity to a staging Parquet file
in a private temporary directory. It runs before the load takes the feed's lock, and a
file that cannot be read raises InputFileError before anything is stored. Classification
and the lake file are then DuckDB queries over the staging file (`write_lake` sorts by
id_number, so a reader looking up one person skips row groups by their statistics), so a
load's memory is bounded by a few batches plus DuckDB's memory limit, not by the file.
The staging file and DuckDB's spill live in a private directory under `LAKE/.staging/`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.feeds import validate
from safetynet.feeds.model import Feed
from safetynet.files import private_dir, private_file
from safetynet.tabular import DEFAULT_BATCH_ROWS, open_batches

_VALID = "__valid"  # staging only: the row passed validation


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Tuning:
    """Resources of one load. The defaults keep a load of any size near 1 GB: batches of a
    quarter million rows validated by one worker per core (up to 4; a few batches in
    flight), DuckDB capped at 512 MB (its sort and joins spill to the load's directory
    beyond that), lake row groups of 64k rows (a one-person lookup reads one or two)."""
    batch_rows: int = DEFAULT_BATCH_ROWS
    workers: int = field(default_factory=_default_workers)
    duckdb_memory: str = "512MB"
    row_group_rows: int = 65_536


@dataclass(frozen=True)
class BadRow:
    """A row for the quarantine: its index in the file (line = index + 2), its cells as read,
    its content digest and the (column, reason) of each fault found by validation."""
    index: int
    cells: dict
    digest: str | None
    reasons: list[tuple[str, str]]


@dataclass
class Staged:
    rows: int
    path: Path | None  # the staging Parquet (None when the file has no rows)
    columns: list[str]  # the lake's typed columns, in order: contract columns, then extras
    invalid: np.ndarray  # bool per row: failed validation
    invalid_rows: list[BadRow]  # those rows, for the quarantine (memory grows with their number)
    work: Path  # the load's private directory (staging file, DuckDB's spill)

    @property
    def sql_source(self) -> str:
        return f"read_parquet({_literal(str(self.path))})"


@dataclass
class _Batch:
    table: pa.Table
    invalid: np.ndarray
    bad: list[BadRow]


@contextmanager
def work_dir(lake_dir: Path) -> Iterator[Path]:
    """A private directory for one load's staging file and DuckDB's spill, under
    `LAKE/.staging/` (the lake's disk, never a RAM-backed /tmp), removed afterwards. One
    left by a killed load (its process is gone) is removed by the next load."""
    root = private_dir(Path(lake_dir) / ".staging")
    for p in root.iterdir():
        pid = p.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=root) as d:
        yield Path(d)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_batch(feed: Feed, batch: pa.Table, offset: int, con: duckdb.DuckDBPyConnection) -> _Batch:
    try:
        checked = validate.check(feed, batch, con=con)
    finally:
        con.close()
    k = batch.num_rows
    invalid = checked.bad_mask(k)
    idx = np.flatnonzero(invalid)
    bad = []
    if len(idx):
        messages = validate.row_messages(checked, batch, idx)
        take = pa.array(idx)
        cells = batch.take(take).to_pylist()
        digests = checked.digests.take(take).to_pylist()
        bad = [BadRow(offset + int(i), c, d, messages[int(i)]) for i, c, d in zip(idx, cells, digests,
                                                                                     strict=True)]
    table = (checked.typed
             .append_column("line", pa.array(np.arange(offset + 2, offset + 2 + k, dtype=np.int32)))
             .append_column("content_digest", checked.digests)
             .append_column(_VALID, pa.array(~invalid)))
    return _Batch(table, invalid, bad)


class _Inline:
    """The executor interface, running each task when submitted."""

    def submit(self, fn, *args) -> Future:  # noqa: ANN001, ANN002
        f: Future = Future()
        f.set_result(fn(*args))
        return f

    def shutdown(self, **_: object) -> None:
        pass


def stage(path: Path, feed: Feed, work: Path, tuning: Tuning) -> Staged:
    """Read, validate and stage every row of the file (see the module's doc)."""
    source = open_batches(path, feed.contract_columns(), tuning.batch_rows)
    target = work / "staged.parquet"
    db = duckdb.connect()
    db.execute("SET threads = 1")  # the md5 of one batch: the batches are the parallelism
    writer: pq.ParquetWriter | None = None
    invalid: list[np.ndarray] = []
    bad: list[BadRow] = []
    rows = 0

    def drain(future: Future) -> None:
        nonlocal writer
        out = future.result()
        if writer is None:
            # a temporary file read once: plain encoding, no compression, no statistics
            writer = pq.ParquetWriter(target, out.table.schema, compression="none", use_dictionary=False,
                                      write_statistics=False)
        table = out.table if out.table.schema == writer.schema else out.table.cast(writer.schema)
        writer.write_table(table)
        invalid.append(out.invalid)
        bad.extend(out.bad)

    # workers=1: everything on the calling thread (no overlap; what a profiler sees)
    pool = ThreadPoolExecutor(max_workers=tuning.workers, thread_name_prefix="feed-stage") \
        if tuning.workers > 1 else _Inline()
    pending: deque[Future] = deque()
    try:
        for batch in source:
            if batch.num_rows == 0:
                continue
            pending.append(pool.submit(_check_batch, feed, batch, rows, db.cursor()))
            rows += batch.num_rows
            while len(pending) > tuning.workers:  # a bounded number of batches in flight
                drain(pending.popleft())
        while pending:
            drain(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if writer is not None:
            writer.close()
        db.close()
    if writer is None:  # no rows
        return Staged(0, None, [], np.zeros(0, dtype=bool), [], work)
    columns = [n for n in writer.schema.names if n not in ("line", "content_digest", _VALID)]
    return Staged(rows, target, columns, np.concatenate(invalid), bad, work)


def connect(staged: Staged, tuning: Tuning) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for the load's queries over the staging file, its memory capped
    (sorts and joins spill to the load's temporary directory)."""
    con = duckdb.connect(config={"memory_limit": tuning.duckdb_memory,
                                 "temp_directory": str(staged.work / "spill")})
    con.execute("SET enable_progress_bar = false")
    return con


def write_lake(con: duckdb.DuckDBPyConnection, staged: Staged, target: Path, *, load_id: int,
               replaced: pa.Table, dropped: np.ndarray, tuning: Tuning) -> Path:
    """The lake file of the load: the staged rows that passed validation, less the `dropped`
    lines (duplicates, conflicts), with `version` (1, or the replaced version + 1 for the
    `replaced` lines), `load_id`, `line` and `content_digest`; sorted by id_number then
    record_id in row groups of `tuning.row_group_rows`, so a one-person lookup reads few.
    DuckDB sorts (spilling beyond its memory limit); the sorted rows stream back to the
    Parquet writer that writes every lake file (`write_lake_file`'s settings).

    Written under a temporary name and renamed: a reader never sees half a file. The file
    becomes part of the lake only when the caller registers it in the load's transaction."""
    private_dir(target.parent)
    tmp = private_file(target.with_name(f".{target.name}.{os.getpid()}.tmp"))  # the writer keeps its 0600
    con.register("replaced", replaced)
    con.register("dropped", pa.table({"line": pa.array(dropped.astype(np.int32), pa.int32())}))
    cols = ", ".join(f"s.{_ident(c)}" for c in staged.columns)
    size = int(tuning.row_group_rows)
    writer: pq.ParquetWriter | None = None
    try:
        # the sort key leads with the number's 17 body digits as an integer: cheaper to sort
        # than the string, in the same order (the check digit follows from them; every
        # accepted row has a valid number)
        reader = con.execute(f"""
            SELECT {cols}, (coalesce(r.old_version, 0) + 1)::INTEGER AS version,
                   {int(load_id)}::BIGINT AS load_id, s.line, s.content_digest
            FROM {staged.sql_source} s LEFT JOIN replaced r ON r.line = s.line
            WHERE s.{_VALID} AND s.line NOT IN (SELECT line FROM dropped)
            ORDER BY TRY_CAST(substr(s.id_number, 1, 17) AS BIGINT), s.record_id""").to_arrow_reader(size)
        writer = pq.ParquetWriter(tmp, reader.schema,
                                  use_dictionary=lake_dictionary_columns(reader.schema.names))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-write") as pool:
            # row groups are encoded on another thread while DuckDB hands over the next rows
            written: Future | None = None
            for table in _row_groups(reader, size):
                if written is not None:
                    written.result()
                written = pool.submit(writer.write_table, table, row_group_size=size)
            if written is not None:
                written.result()
    finally:
        if writer is not None:
            writer.close()
        con.unregister("replaced")
        con.unregister("dropped")
    os.replace(tmp, target)
    return target


def _row_groups(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
    """The reader's rows in tables of `size` rows (the last one shorter): DuckDB's batches
    may be smaller than a row group."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        if held >= size:
            table = pa.Table.from_batches(pending)
            for start in range(0, held - size + 1, size):
                yield table.slice(start, size)
            whole = held - held % size
            pending, held = table.slice(whole).to_batches(), held - whole
    if held:
        yield pa.Table.from_batches(pending, reader.schema)


_DISTINCT = {"record_id", "id_number", "content_digest", "line"}


def lake_dictionary_columns(names: list[str]) -> list[str]:
    """Dictionary-encode all but the columns with a distinct value per row (trying a
    dictionary on them costs time and gains nothing)."""
    return [c for c in names if c not in _DISTINCT]


def reread_rows(path: Path, feed: Feed, staged: Staged, indices: list[int], tuning: Tuning) -> list[BadRow]:
    """The cells and digests of the given rows (file order), read again from the file: for
    rows that passed validation but are quarantined after all (a conflicting repeat)."""
    want = np.array(sorted(indices), dtype=np.int64)
    digests = pq.read_table(staged.path, columns=["line", "content_digest"],
                            filters=[("line", "in", (want + 2).tolist())])
    digest_of = dict(zip(digests.column("line").to_pylist(), digests.column("content_digest").to_pylist(),
                         strict=True))
    out: list[BadRow] = []
    offset = 0
    for batch in open_batches(path, feed.contract_columns(), tuning.batch_rows):
        k = batch.num_rows
        local = want[(want >= offset) & (want < offset + k)] - offset
        if len(local):
            cells = batch.take(pa.array(local)).to_pylist()
            out.extend(BadRow(int(offset + i), c, digest_of[int(offset + i) + 2], [])
                       for i, c in zip(local, cells, strict=True))
        offset += k
        if offset > want[-1]:
            break
    return out
