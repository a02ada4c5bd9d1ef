"""Fast paths of the `safetynet.cells` parsers for the ingest hot path, same results.

The cells parsers run several regular-expression kernels over every cell; on millions of
rows that is most of an ingest. Here the common, well-formed cells take a cheap path (a
strict Arrow cast for `YYYY-MM-DD` dates, byte arithmetic on the fixed-width id number,
one regex and a decimal cast for amounts) and every other cell is handed to the cells
parser, so the outcome — values and the invalid mask — is exactly that of `safetynet.cells`
(tests/unit/test_feeds_fastparse.py compares them on awkward inputs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet import cells, identity

_ZERO, _X, _x = ord("0"), ord("X"), ord("x")
# GB 11643: weight of each of the 17 body digits, and the check character of (sum mod 11)
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _ymd(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), int32."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468).astype(np.int32)


def iso_dates(arr: pa.Array) -> pa.Array | None:
    """The column as date32 when every present cell is a valid `YYYY-MM-DD` (one strict
    cast: it refuses other shapes and impossible dates such as 2025-02-30), else None."""
    try:
        return pc.cast(pc.cast(arr, pa.string()), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def parse_dates(arr: pa.Array) -> cells.Parsed:
    """`cells.parse_dates`, with `iso_dates` as the fast path."""
    values = iso_dates(arr)
    if values is None:
        return cells.parse_dates(arr)
    return cells.Parsed(values, np.zeros(len(arr), dtype=bool))


def parse_months(arr: pa.Array) -> cells.Parsed:
    """`cells.parse_months`, with a fast path for the usual case: every present cell already
    a canonical `YYYY-MM` (7 characters, and a strict date cast of it with "-01" succeeds)."""
    arr = pc.cast(arr, pa.string())
    lengths = pc.binary_length(arr)
    if pc.all(pc.equal(lengths, 7)).as_py() is not False:  # None: no present cell
        try:
            pc.cast(pc.binary_join_element_wise(arr, "01", "-"), pa.date32())
            return cells.Parsed(arr, np.zeros(len(arr), dtype=bool))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return cells.parse_months(arr)


def parse_money_fen(arr: pa.Array) -> cells.Parsed:
    """`cells.parse_money_fen` (no negatives): the same validity regex, then a decimal cast
    of the valid cells instead of string surgery. A decimal(14, 2)'s unscaled integer is the
    amount in fen, so it is read from the array's buffer (a multiply and cast of decimals
    costs more than the rest of the parse)."""
    arr = pc.cast(arr, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pc.any(pc.match_substring(arr, ",")).as_py():  # "1,010.50" from Excel
        arr = pc.replace_substring(arr, pattern=",", replacement="")
    ok = pc.fill_null(pc.match_substring_regex(arr, pattern=r"^\d{1,12}(\.\d{1,2})?$"), False)
    ok_np = ok.to_numpy(zero_copy_only=False)
    dec = pc.cast(pc.if_else(ok, arr, pa.scalar("0")), pa.decimal128(14, 2))
    # little-endian 128-bit words; at most 14 digits, so the low 64 bits hold the value
    words = np.frombuffer(dec.buffers()[1], dtype=np.int64, count=2 * (dec.offset + len(dec)))
    fen = pa.array(words[2 * dec.offset::2], pa.int64(), mask=~ok_np)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return cells.Parsed(fen, present & ~ok_np)


def _fixed18(arr: pa.Array, rows: np.ndarray) -> np.ndarray:
    """The bytes of the given rows (each exactly 18 bytes long) as a (k, 18) uint8 matrix."""
    sub = arr.take(pa.array(rows)) if len(rows) != len(arr) else arr
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32, count=len(sub) + 1, offset=4 * sub.offset)
    start = int(offsets[0])
    if not np.array_equal(offsets - start, np.arange(len(sub) + 1, dtype=np.int32) * 18):
        sub = pa.array(sub.to_pylist(), pa.string())  # not contiguous (cannot happen after take)
        offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32, count=len(sub) + 1)
        start = 0
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8, count=start + 18 * len(sub))
    return data[start:].reshape(-1, 18)


def parse_id_numbers(arr: pa.Array, *, today: dt.date | None = None) -> cells.ParsedIds:
    """`cells.parse_id_numbers`. Cells of exactly 18 ASCII characters, 17 digits then a
    digit or X/x, are judged by arithmetic on their bytes (check digit, birth date in range,
    known region prefix); every other cell (empty, spaces, wrong length, other characters)
    goes through `cells.parse_id_numbers`."""
    today = today or dt.date.today()
    arr = pc.cast(arr, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    length18 = pc.fill_null(pc.equal(pc.binary_length(arr), 18), False).to_numpy(zero_copy_only=False)
    cand = np.flatnonzero(length18)
    raw = _fixed18(arr, cand) if len(cand) else np.zeros((0, 18), dtype=np.uint8)
    shaped = ((raw[:, :17] - np.uint8(_ZERO)) < 10).all(axis=1)
    last = raw[:, 17]
    shaped &= ((last - np.uint8(_ZERO)) < 10) | (last == _X) | (last == _x)
    fast = cand[shaped]
    raw, last = raw[shaped], last[shaped]

    def digit(j: int) -> np.ndarray:
        return raw[:, j].astype(np.int32) - _ZERO

    total = np.zeros(len(raw), dtype=np.int32)
    for j, w in enumerate(_WEIGHTS):
        total += digit(j) * w
    ok = _CHECK_CHARS[total % 11] == np.where(last == _x, np.uint8(_X), last)
    year = digit(6) * 1000 + digit(7) * 100 + digit(8) * 10 + digit(9)
    month = digit(10) * 10 + digit(11)
    day = digit(12) * 10 + digit(13)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    longest = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ymd = year * 10000 + month * 100 + day
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= longest)
    ok &= (ymd >= _ymd(identity.EARLIEST_BIRTH)) & (ymd <= _ymd(today))
    prefix = sum(digit(j) * 10 ** (5 - j) for j in range(6))
    if ok.any():
        unique = np.unique(prefix[ok])
        known = [p for p in unique if identity.region_prefix_known(f"{p:06d}")]
        ok &= np.isin(prefix, known)
    birth = _days_from_civil(year, np.clip(month, 1, 12), np.clip(day, 1, 31))
    male = digit(16) % 2 == 1

    is_fast = np.zeros(n, dtype=bool)
    is_fast[fast] = True
    rest = np.flatnonzero(~is_fast)
    slow = cells.parse_id_numbers(arr.take(pa.array(rest)), today=today) if len(rest) else None

    okn = np.zeros(n, dtype=bool)
    okn[fast] = ok
    invalid = np.zeros(n, dtype=bool)
    invalid[fast] = ~ok
    missing = np.zeros(n, dtype=bool)
    births = np.zeros(n, dtype=np.int32)
    births[fast] = birth
    sexes = np.zeros(n, dtype=bool)
    sexes[fast] = male
    upper = pc.utf8_upper(arr) if (last == _x).any() else arr
    numbers = pc.if_else(pa.array(okn), upper, pa.scalar(None, pa.string()))
    birth_all = pa.Array.from_buffers(pa.date32(), n, [None, pa.py_buffer(births)])
    birth_arr = pc.if_else(pa.array(okn), birth_all, pa.scalar(None, pa.date32()))
    sex_arr = pc.if_else(pa.array(okn), pc.if_else(pa.array(sexes), pa.scalar("M"), pa.scalar("F")),
                         pa.scalar(None, pa.string()))
    if slow is not None:
        invalid[rest] = slow.invalid
        missing[rest] = slow.missing
        if (~slow.invalid & ~slow.missing).any():  # valid after normalising (spaces): take theirs
            order = np.concatenate([np.flatnonzero(is_fast), rest])
            back = pa.array(np.argsort(order, kind="stable"))
            numbers = pa.concat_arrays([numbers.filter(pa.array(is_fast)), slow.numbers]).take(back)
            birth_arr = pa.concat_arrays([birth_arr.filter(pa.array(is_fast)), slow.birth_dates]).take(back)
            sex_arr = pa.concat_arrays([sex_arr.filter(pa.array(is_fast)), slow.sexes]).take(back)
    return cells.ParsedIds(numbers=numbers, birth_dates=birth_arr, sexes=sex_arr, invalid=invalid,
                           missing=missing)
