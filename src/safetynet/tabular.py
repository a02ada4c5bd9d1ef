"""Reading the tabular files that departments and registers deliver.

One reader for every contract (registry.md, feeds.md): CSV in UTF-8 (with or without BOM)
or GB18030/GBK, Excel .xlsx (first sheet) and Parquet; English column names or the Chinese
labels. Every cell comes back as a string (or null when empty) so that validation, with
its row-level messages, is the caller's, and leading zeros in codes and id numbers survive.

A file that cannot be read at all raises InputFileError naming the file, line and column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from safetynet.errors import InputFileError, RowError

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".parquet")
_DECODE_CHUNK = 1 << 24


@dataclass(frozen=True)
class Column:
    """One column of a contract: canonical English name, Chinese label, required or not."""

    name: str
    label: str
    required: bool = False


@dataclass(frozen=True)
class TableFile:
    """A read file. `table` holds the contract's columns (canonical names, strings), plus
    any extra columns under their own header. Row i of the table is line i + 2 of the file
    (line 1 is the header)."""

    path: Path
    table: pa.Table
    encoding: str | None  # CSV only
    extra_columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path.name

    def line_of(self, row_index: int) -> int:
        return row_index + 2


def detect_encoding(path: Path) -> str:
    """"utf-8-sig", "utf-8" or "gb18030"; raises InputFileError if neither decodes.

    UTF-8 is tried first over the whole file (strict, C speed): GBK text of any length
    almost never happens to be valid UTF-8, while the reverse is common, so the order
    matters.
    """
    with path.open("rb") as f:
        head = f.read(3)
    if head == codecs.BOM_UTF8:
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        offset = _first_undecodable_offset(path, encoding)
        if offset is None:
            return encoding
    raise InputFileError(
        [
            RowError(
                path.name,
                _line_at_offset(path, _first_undecodable_offset(path, "utf-8") or 0),
                None,
                "file is neither UTF-8 nor GB18030/GBK text; save it as CSV UTF-8 or GBK",
            )
        ]
    )


def _first_undecodable_offset(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    with path.open("rb") as f:
        while chunk := f.read(_DECODE_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return consumed + e.start
            consumed += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return consumed
    return None


def _line_at_offset(path: Path, offset: int) -> int:
    with path.open("rb") as f:
        return f.read(offset).count(b"\n") + 1


def _resolve_header(
    path: Path, header: list[str], columns: list[Column]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Map the file's header names to canonical names; reject a missing required column."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key[col.name.lower()] = col.name
        by_key[col.label] = col.name
    mapping: dict[str, str] = {}
    extras: list[str] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for raw in header:
        key = raw.strip().lstrip("\ufeff")
        canonical = by_key.get(key) or by_key.get(key.lower())
        if canonical is None:
            extras.append(raw)
            continue
        if canonical in seen:
            errors.append(
                RowError(path.name, 1, raw, f"column {canonical} appears twice "
                                            f"(as {seen[canonical]!r} and {raw!r})")
            )
            continue
        seen[canonical] = raw
        mapping[raw] = canonical
    for col in columns:
        if col.required and col.name not in seen:
            errors.append(
                RowError(path.name, 1, col.name,
                         f"required column missing: {col.name} ({col.label}); "
                         f"header has {', '.join(h.strip() for h in header) or 'nothing'}")
            )
    if errors:
        raise InputFileError(errors)
    return mapping, tuple(extras)


def _to_strings(table: pa.Table | pa.RecordBatch) -> pa.Table:
    """Every column as a string, empty or whitespace-only cells as null."""
    out = []
    for col in table.columns:
        if pa.types.is_string(col.type):
            s = col  # already a string: no cast (a copy per column on the hot path)
        elif pa.types.is_large_string(col.type):
            s = col.cast(pa.string())
        elif pa.types.is_floating(col.type):
            # 100.0 → "100.0" would fail an integer field; trim a whole number's ".0"
            s = pc.cast(col, pa.string())
            s = pc.replace_substring_regex(s, pattern=r"\.0$", replacement="")
        else:
            s = pc.cast(col, pa.string())
        s = pc.utf8_trim_whitespace(s)
        empty = pc.equal(s, "")
        out.append(pc.if_else(empty, pa.scalar(None, pa.string()), s) if pc.any(empty).as_py() else s)
    return pa.table(out, names=table.column_names)


def _rename(path: Path, table: pa.Table, columns: list[Column]) -> tuple[pa.Table, tuple[str, ...]]:
    mapping, extras = _resolve_header(path, table.column_names, columns)
    names = [mapping.get(n, n) for n in table.column_names]
    return table.rename_columns(names), extras


def _csv_header(path: Path, columns: list[Column]) -> tuple[str, list[str], dict[str, str], tuple[str, ...]]:
    """Encoding, header and its mapping to canonical names (InputFileError when unusable)."""
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, newline="") as f:
        header = next(csv.reader(io.StringIO(f.readline())), [])
    if not header or all(not h.strip() for h in header):
        raise InputFileError([RowError(path.name, 1, None, "file is empty or has no header row")])
    mapping, extras = _resolve_header(path, header, columns)
    return encoding, header, mapping, extras


def _csv_options(encoding: str, header: list[str], block_size: int) -> dict:
    # every column a string (a BOM-prefixed spelling too): nothing is inferred, so a later
    # block of a streamed file cannot disagree with the first
    types = {h: pa.string() for h in header} | {"\ufeff" + h: pa.string() for h in header}
    return {
        "read_options": pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8-sig" else encoding,
                                          block_size=block_size),
        "parse_options": pacsv.ParseOptions(newlines_in_values=False),
        "convert_options": pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                quoted_strings_can_be_null=False),
    }


def _csv_error(path: Path, encoding: str, header: list[str], e: Exception) -> InputFileError:
    line = _ragged_line(path, encoding, len(header))
    reason = (f"row has a different number of fields than the header ({len(header)})"
              if line else f"not a readable CSV table: {e}")
    return InputFileError([RowError(path.name, line, None, reason)])


def _csv_names(names: list[str], mapping: dict[str, str]) -> list[str]:
    if names and names[0].startswith("\ufeff"):
        names = [names[0].lstrip("\ufeff"), *names[1:]]
    return [mapping.get(n, mapping.get("\ufeff" + n, n)) for n in names]


def _read_csv(path: Path, columns: list[Column]) -> tuple[pa.Table, str, tuple[str, ...]]:
    encoding, header, mapping, extras = _csv_header(path, columns)
    try:
        table = pacsv.read_csv(path, **_csv_options(encoding, header, 1 << 24))
    except pa.ArrowInvalid as e:
        raise _csv_error(path, encoding, header, e) from e
    table = _to_strings(table)
    return table.rename_columns(_csv_names(table.column_names, mapping)), encoding, extras


def _ragged_line(path: Path, encoding: str, width: int) -> int | None:
    """Line of the first row whose field count differs from the header's (error path only)."""
    with path.open("r", encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            if len(row) != width and any(cell.strip() for cell in row):
                return reader.line_num
    return None


def _cell_to_str(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _read_xlsx(path: Path, columns: list[Column]) -> tuple[pa.Table, tuple[str, ...]]:
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(
            skip_empty_area=False
        )
    except Exception as e:  # calamine raises several unrelated types for a bad workbook
        raise InputFileError([RowError(path.name, None, None, f"not a readable .xlsx workbook: {e}")]) from e
    if not rows:
        raise InputFileError([RowError(path.name, 1, None, "first sheet is empty; expected a header row")])
    header = [str(h).strip() for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    body = [r[: len(header)] for r in rows[1:]]
    body = [r for r in body if any(c not in (None, "") for c in r)]
    data = {
        h: pa.array([_cell_to_str(r[i]) if i < len(r) else None for r in body], pa.string())
        for i, h in enumerate(header)
    }
    table = pa.table(data) if data else pa.table({})
    table, extras = _rename(path, table, columns)
    return table, extras


def _read_parquet(path: Path, columns: list[Column]) -> tuple[pa.Table, tuple[str, ...]]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputFileError([RowError(path.name, None, None, f"not a readable Parquet file: {e}")]) from e
    table, extras = _rename(path, table, columns)
    return _to_strings(table), extras


def read_table(path: Path, columns: list[Column]) -> TableFile:
    """Read one file of a contract. Raises InputFileError when the file cannot be taken."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError([RowError(str(path), None, None, "file not found")])
    suffix = path.suffix.lower()
    encoding = None
    if suffix == ".csv":
        table, encoding, extras = _read_csv(path, columns)
    elif suffix == ".xlsx":
        table, extras = _read_xlsx(path, columns)
    elif suffix == ".parquet":
        table, extras = _read_parquet(path, columns)
    else:
        raise InputFileError(
            [RowError(path.name, None, None,
                      f"unsupported file type {suffix or '(none)'}; expected .csv, .xlsx or .parquet")]
        )
    # Optional columns the file lacks are present as all-null, so callers need not ask.
    for col in columns:
        if col.name not in table.column_names:
            table = table.append_column(col.name, pa.nulls(table.num_rows, pa.string()))
    return TableFile(path, table, encoding, extras)


DEFAULT_BATCH_ROWS = 262_144


@dataclass(frozen=True)
class BatchedFile:
    """A file opened for reading in batches (`open_batches`). Iterating yields tables of the
    contract's columns as `read_table` gives them (canonical names, strings, optional
    columns the file lacks as all-null), in file order: row i of the k-th batch is line
    2 + i + (rows of the batches before it) of the file."""

    path: Path
    encoding: str | None  # CSV only
    extra_columns: tuple[str, ...]
    batches: Iterator[pa.Table]

    def __iter__(self) -> Iterator[pa.Table]:
        return self.batches


def open_batches(path: Path, columns: list[Column], batch_rows: int = DEFAULT_BATCH_ROWS) -> BatchedFile:
    """`read_table` in batches of about `batch_rows` rows, so that memory is bounded by a
    batch rather than the file (Parquet: row batches; CSV: blocks of bytes sized from the
    first lines; xlsx is read whole, then sliced). A file that cannot be opened raises
    InputFileError here; a fault further in (a ragged CSV row, a corrupt Parquet page)
    raises it from the iteration, so the caller must take every batch before acting."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError([RowError(str(path), None, None, "file not found")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, header, mapping, extras = _csv_header(path, columns)
        raw = _csv_stream(path, encoding, header, mapping, batch_rows)
    elif suffix == ".parquet":
        encoding = None
        raw, extras = _parquet_stream(path, columns, batch_rows)
    elif suffix == ".xlsx":
        encoding = None
        table, extras = _read_xlsx(path, columns)
        raw = (table.slice(i, batch_rows) for i in range(0, max(table.num_rows, 1), batch_rows))
    else:
        return BatchedFile(path, None, (), iter([read_table(path, columns).table]))  # raises
    return BatchedFile(path, encoding, extras, (_with_all_columns(t, columns) for t in raw))


def _with_all_columns(table: pa.Table, columns: list[Column]) -> pa.Table:
    for col in columns:
        if col.name not in table.column_names:
            table = table.append_column(col.name, pa.nulls(table.num_rows, pa.string()))
    return table


def _csv_block_size(path: Path, batch_rows: int) -> int:
    """Bytes of about `batch_rows` lines, judged from the first MiB (the reader's unit is a
    block of bytes, not a number of rows). At least 1 MiB: a row longer than a block cannot
    be read, and no department's row is that long."""
    with path.open("rb") as f:
        sample = f.read(1 << 20)
    per_line = len(sample) / max(sample.count(b"\n"), 1)
    return int(min(max(per_line * batch_rows, 1 << 20), 1 << 30))


def _csv_stream(path: Path, encoding: str, header: list[str], mapping: dict[str, str],
                batch_rows: int) -> Iterator[pa.Table]:
    try:
        reader = pacsv.open_csv(path, **_csv_options(encoding, header, _csv_block_size(path, batch_rows)))
    except pa.ArrowInvalid as e:
        raise _csv_error(path, encoding, header, e) from e
    names = _csv_names(reader.schema.names, mapping)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as e:
            raise _csv_error(path, encoding, header, e) from e
        yield _to_strings(batch).rename_columns(names)


def _parquet_stream(path: Path, columns: list[Column], batch_rows: int) -> tuple[Iterator[pa.Table],
                                                                                tuple[str, ...]]:
    def unreadable(e: Exception) -> InputFileError:
        return InputFileError([RowError(path.name, None, None, f"not a readable Parquet file: {e}")])

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise unreadable(e) from e
    mapping, extras = _resolve_header(path, pf.schema_arrow.names, columns)
    names = [mapping.get(n, n) for n in pf.schema_arrow.names]

    def batches() -> Iterator[pa.Table]:
        try:
            for batch in pf.iter_batches(batch_size=batch_rows):
                yield _to_strings(batch).rename_columns(names)
        except (pa.ArrowInvalid, OSError) as e:
            raise unreadable(e) from e

    return batches(), extras


def find_contract_file(directory: Path, stem: str) -> Path:
    """`DIR/<stem>.<csv|xlsx|parquet>`; exactly one must exist."""
    found = [directory / f"{stem}{s}" for s in SUPPORTED_SUFFIXES if (directory / f"{stem}{s}").is_file()]
    if not found:
        raise InputFileError(
            [RowError(str(directory / stem), None, None,
                      f"missing {stem}.csv, {stem}.xlsx or {stem}.parquet in {directory}")]
        )
    if len(found) > 1:
        raise InputFileError(
            [RowError(str(directory / stem), None, None,
                      f"more than one {stem} file: {', '.join(p.name for p in found)}; keep one")]
        )
    return found[0]


def file_digest(path: Path) -> str:
    """SHA-256 of a delivered file: the identity of a delivery in every load ledger."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
