"""Writing tables the way departments deliver them (feeds.md "Files").

Tables arrive typed (dates as date32, money as decimal(16,2), text as strings) and leave as
CSV (UTF-8, UTF-8 with BOM or GB18030; English or Chinese headers; ISO, slash or compact
dates), a one-sheet .xlsx, or Parquet, optionally split into `_01`, `_02`… parts.
Output is byte-for-byte reproducible: no timestamps, fixed Parquet options, fixed
workbook properties.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from safetynet.synth.model import NO_DAY, FileFormat
from safetynet.synth.truth import PARQUET_OPTIONS, money

_DATE_SEPARATORS = {"slash": "/", "compact": ""}  # iso dates are written by Arrow as is
_FIXED_TIME = dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    first_row: int  # index in the month's table of the file's first row


def typed_column(kind: str, value: object, n: int) -> pa.Array:
    """A Block value (day numbers, fen, codes, Arrow strings) as the contract's Arrow type."""
    if kind == "date":
        days = np.asarray(value, np.int64)
        missing = days == int(NO_DAY)
        arr = np.where(missing, 0, days).astype("datetime64[D]")
        return pa.array(arr, pa.date32(), mask=missing)
    if kind == "money":
        return money(np.asarray(value, np.int64))
    if kind == "int":
        return pa.array(np.asarray(value))
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    return pa.array(value, pa.string())


def write_table(table: pa.Table, spec_columns, out_dir: Path, stem: str,
                fmt: FileFormat) -> list[Written]:
    """Write one month of one feed (stem = feed_YYYYMM); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    n = table.num_rows
    parts = 1
    if fmt.part_rows and n > fmt.part_rows:
        parts = -(-n // fmt.part_rows)
    written = []
    for i in range(parts):
        lo = i * (fmt.part_rows or n)
        piece = table.slice(lo, (fmt.part_rows or n) if parts > 1 else n)
        name = f"{stem}_{i + 1:02d}" if parts > 1 else stem
        path = out_dir / f"{name}.{fmt.kind}"
        if fmt.kind == "parquet":
            pq.write_table(piece, path, **PARQUET_OPTIONS)
        elif fmt.kind == "xlsx":
            _write_xlsx(piece, spec_columns, path, fmt)
        else:
            write_csv(piece, spec_columns, path, fmt)
        written.append(Written(path, piece.num_rows, lo))
    return written


def _as_text(table: pa.Table, spec_columns, fmt: FileFormat) -> pa.Table:
    """Dates rendered in the file's date style; header in English or Chinese."""
    cols, names = [], []
    types = {name: kind for name, _, kind in spec_columns}
    labels = {name: label for name, label, _ in spec_columns}
    for name in table.column_names:
        col = table[name]
        if types.get(name) == "date" and (fmt.date_style != "iso" or fmt.kind == "xlsx"):
            # ISO text by cast (fast), then the department's separators; a workbook gets
            # text too, since an unformatted Excel date cell reads back as a serial number
            col = pc.cast(col, pa.string())
            if fmt.date_style != "iso":
                col = pc.replace_substring(col, "-", _DATE_SEPARATORS[fmt.date_style])
        cols.append(col)
        names.append(labels.get(name, name) if fmt.headers == "zh" else name)
    return pa.table(cols, names=names)


def write_csv(table: pa.Table, spec_columns, path: Path, fmt: FileFormat) -> None:
    text = _as_text(table, spec_columns, fmt)
    buf = io.BytesIO()
    buf.write((",".join(text.column_names) + "\n").encode("utf-8"))
    # no quoting: our values never hold a comma, quote or newline; pyarrow raises if one does
    pacsv.write_csv(text, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    data = buf.getvalue()
    if fmt.encoding == "gb18030":
        data = data.decode("utf-8").encode("gb18030")
    elif fmt.encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


def _write_xlsx(table: pa.Table, spec_columns, path: Path, fmt: FileFormat) -> None:
    from safetynet.spreadsheet import SafeWorkbook

    text = _as_text(table, spec_columns, fmt)
    # in-memory mode (not constant_memory) because cells are written column by column; the safe
    # workbook writes every str as a string cell (identity numbers and codes stay text, never formulas)
    with SafeWorkbook(path) as safe:
        safe.book.set_properties({"created": _FIXED_TIME})
        sheet = safe.sheet("data")
        sheet.write_row(0, 0, text.column_names)
        for j, col in enumerate(text.columns):
            values = col.to_pylist()
            if pa.types.is_decimal(col.type):
                values = [None if v is None else float(v) for v in values]
            sheet.write_column(1, j, values)
