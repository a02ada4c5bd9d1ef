"""Vectorised checking of one read feed file: typed columns plus the problems of each row.

Every check is a whole-column Arrow/numpy operation giving a mask of bad rows; messages
are built only for the rows that are bad (the error path), never in a loop over all rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet import cells, identity
from safetynet.feeds import fastparse
from safetynet.feeds.model import LINKAGE_REASON, Feed, FeedColumn, Kind

_NULL_S = pa.scalar(None, pa.string())


@dataclass
class Problem:
    column: str
    mask: np.ndarray  # bool per row
    reason: str | Callable[[str | None], str]  # a callable gets the raw cell (bad rows only)


@dataclass
class Checked:
    typed: pa.Table  # lake columns: typed contract columns then the file's extra columns
    digests: pa.Array  # md5 hex of each row's canonical content
    problems: list[Problem] = field(default_factory=list)
    linkage: np.ndarray | None = None  # rows whose only fault is an id awaiting linkage

    def bad_mask(self, n: int) -> np.ndarray:
        bad = np.zeros(n, dtype=bool)
        for p in self.problems:
            bad |= p.mask
        return bad


def _present(arr: pa.Array) -> np.ndarray:
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def lake_name(col: FeedColumn) -> str:
    return f"{col.name}_fen" if col.kind is Kind.MONEY else col.name


def _id_reason(raw: str | None) -> str:
    try:
        identity.parse(raw or "")
    except identity.InvalidIdNumber as e:
        return f"id_number invalid: {e}"
    return "id_number invalid"


def _money_reason(raw: str | None) -> str:
    if raw and raw.strip().startswith("-"):
        return f"negative amount {raw}; amounts are {cells.MONEY_FORM}"
    return f"not an amount: {raw!r}; expected {cells.MONEY_FORM}"


def _typed_column(col: FeedColumn, raw: pa.Array, problems: list[Problem]) -> pa.Array:
    """Parse one column; append problems for present-but-invalid cells."""
    k = col.kind
    if k is Kind.DATE:
        quick = fastparse.iso_dates(raw)  # the usual case: every cell a valid YYYY-MM-DD
        if quick is not None:
            return quick
        # a time of day after the date (受理时间 "2025-01-07 09:30") is accepted and dropped
        trimmed = pc.replace_substring_regex(raw, pattern=r"^(\S+)[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$",
                                             replacement=r"\1")
        p = cells.parse_dates(trimmed)
        problems.append(Problem(col.name, p.invalid,
                                lambda v: f"not a date: {v!r}; expected {cells.DATE_FORMS}"))
        return p.values
    if k is Kind.MONTH:
        p = fastparse.parse_months(raw)
        problems.append(Problem(col.name, p.invalid,
                                lambda v: f"not a month: {v!r}; expected YYYY-MM or YYYYMM"))
        return p.values
    if k is Kind.MONEY:
        p = fastparse.parse_money_fen(raw)
        problems.append(Problem(col.name, p.invalid, _money_reason))
        return p.values
    if k is Kind.DECIMAL:
        clean = pc.replace_substring(raw, pattern=",", replacement="")
        ok = pc.fill_null(pc.match_substring_regex(clean, pattern=r"^\d{1,10}(\.\d{1,2})?$"), False)
        problems.append(Problem(col.name, _present(raw) & ~_np(ok),
                                lambda v: f"not a number: {v!r}; expected e.g. 75.88 (≥0, ≤2 decimals)"))
        return pc.cast(pc.if_else(ok, clean, _NULL_S), pa.decimal128(14, 2))
    if k is Kind.INT:
        ok = pc.fill_null(pc.match_substring_regex(raw, pattern=r"^\d{1,9}$"), False)
        values = pc.cast(pc.if_else(ok, raw, _NULL_S), pa.int64())
        if col.range:
            lo, hi = col.range
            ok = pc.and_(ok, pc.fill_null(pc.and_(pc.greater_equal(values, lo), pc.less_equal(values, hi)),
                                          False))
            values = pc.if_else(ok, values, pa.scalar(None, pa.int64()))
        rng = f" from {col.range[0]} to {col.range[1]}" if col.range else ""
        problems.append(Problem(col.name, _present(raw) & ~_np(ok),
                                lambda v: f"not a whole number{rng}: {v!r}"))
        return values
    if k is Kind.ENUM:
        p = cells.parse_enum(raw, {v: v for v in col.values})
        allowed = ", ".join(col.values)
        problems.append(Problem(col.name, p.invalid, lambda v: f"{v!r} is not one of: {allowed}"))
        return p.values
    if k is Kind.REGION:
        ok = pc.fill_null(pc.match_substring_regex(raw, pattern=r"^\d{12}$"), False)
        problems.append(Problem(col.name, _present(raw) & ~_np(ok),
                                lambda v: f"not a 12-digit administrative code: {v!r}"))
        return pc.if_else(ok, raw, _NULL_S)
    if k is Kind.ID:
        ids = fastparse.parse_id_numbers(raw)  # another person's number, e.g. cadre_id_number
        problems.append(Problem(col.name, ids.invalid, lambda v: _id_reason(v).replace(
            "id_number", col.name, 1)))
        return ids.numbers
    return raw


def _digest_part(values: pa.Array, raw: pa.Array) -> pa.Array:
    """A column's content for the digest: the canonical value where valid, else the raw text,
    "\x00" when empty. A parsed value is null wherever the raw cell is, so equal null counts
    mean it is null only there (the usual case): then no coalescing copy is needed."""
    text = pc.cast(values, pa.string())
    if values.null_count == raw.null_count:
        return text if values.null_count == 0 else pc.fill_null(text, "\x00")
    return pc.coalesce(text, raw, pa.scalar("\x00"))


def check(feed: Feed, table: pa.Table, *, con: duckdb.DuckDBPyConnection | None = None) -> Checked:
    """Type every contract column and collect the problems of each row. `con`: a DuckDB
    connection for the digests (one per thread), else a fresh one."""
    n = table.num_rows
    problems: list[Problem] = []
    typed: dict[str, pa.Array] = {}
    digest_parts: list[pa.Array] = []
    ids = None
    for col in feed.all_columns:
        raw = table.column(col.name).combine_chunks()
        if col.name == "id_number":  # parsed once: its problems are judged below
            ids = fastparse.parse_id_numbers(raw)
            values = ids.numbers
        else:
            values = _typed_column(col, raw, problems)
        typed[lake_name(col)] = values
        digest_parts.append(_digest_part(values, raw))
        if col.required and col.name != "id_number":
            problems.append(Problem(col.name, ~_present(raw), f"{col.name} ({col.label}) is required"))

    assert ids is not None  # id_number is a common column of every feed
    linkage = None
    if feed.id_may_be_empty:
        linkage = ids.missing | ids.invalid
        problems.append(Problem("id_number", linkage, LINKAGE_REASON))
    else:
        problems.append(Problem("id_number", ids.missing,
                                f"id_number (身份证号) is required in the {feed.name} feed"))
        problems.append(Problem("id_number", ids.invalid, _id_reason))

    contract = {c.name for c in feed.all_columns}
    for extra in table.column_names:
        if extra not in contract and extra not in typed:
            typed[extra] = table.column(extra).combine_chunks()
    joined = pc.binary_join_element_wise(*digest_parts, "\x1f") if n else pa.array([], pa.string())
    return Checked(pa.table(typed), md5(joined, con=con), problems, linkage)


def md5(strings: pa.Array, *, con: duckdb.DuckDBPyConnection | None = None) -> pa.Array:
    """md5 hex of each string, in DuckDB (vectorised; Arrow has no hash kernel)."""
    if len(strings) == 0:
        return pa.array([], pa.string())
    own = con is None
    con = duckdb.connect() if own else con
    try:
        con.execute("SET preserve_insertion_order = true")  # the default: rows come back in order
        con.execute("SET enable_progress_bar = false")
        # a relation, not a registered name: threads share the database with a cursor each
        out = con.from_arrow(pa.table({"s": strings})).project("md5(s) AS d").to_arrow_table()
    finally:
        if own:
            con.close()
    return out.column("d").combine_chunks()


def row_messages(checked: Checked, table: pa.Table, rows: np.ndarray) -> dict[int, list[tuple[str, str]]]:
    """(column, reason) of each bad row (only the given row indices are visited)."""
    out: dict[int, list[tuple[str, str]]] = {int(i): [] for i in rows}
    if len(rows) == 0:
        return out
    for p in checked.problems:
        hit = rows[p.mask[rows]]
        if len(hit) == 0:
            continue
        if isinstance(p.reason, str):
            for i in hit:
                out[int(i)].append((p.column, p.reason))
            continue
        raw = table.column(p.column).take(pa.array(hit)).to_pylist()
        for i, v in zip(hit, raw, strict=True):
            out[int(i)].append((p.column, p.reason(v)))
    return out
