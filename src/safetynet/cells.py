"""Vectorised parsing of cell values shared by every file contract.

Each parser takes a pyarrow string array (nulls allowed) and returns the parsed array plus a
boolean numpy mask of cells that are present but invalid, so the caller can report them by
line without a per-row Python loop on the hot path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet import identity

DATE_FORMS = "YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD"
MONEY_FORM = "yuan with at most 2 decimals, e.g. 941 or 1010.50"


@dataclass(frozen=True)
class Parsed:
    values: pa.Array
    invalid: np.ndarray  # bool: present but not valid


def _present(arr: pa.Array) -> np.ndarray:
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def parse_dates(arr: pa.Array) -> Parsed:
    """Dates in any of the accepted forms → date32; invalid (e.g. 2025-02-30) flagged."""
    arr = pc.cast(arr, pa.string())
    norm = pc.replace_substring_regex(
        arr, pattern=r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$", replacement=r"\1-\2-\3"
    )
    norm = pc.replace_substring_regex(norm, pattern=r"^(\d{4})-(\d)-", replacement=r"\1-0\2-")
    norm = pc.replace_substring_regex(norm, pattern=r"-(\d)$", replacement=r"-0\1")
    norm = pc.replace_substring_regex(norm, pattern=r"^(\d{4})(\d{2})(\d{2})$", replacement=r"\1-\2-\3")
    shaped = pc.match_substring_regex(norm, pattern=r"^\d{4}-\d{2}-\d{2}$")
    shaped_np = pc.fill_null(shaped, False).to_numpy(zero_copy_only=False)
    present = _present(arr)
    safe = pc.if_else(shaped, norm, pa.scalar(None, pa.string()))
    # strptime rejects impossible dates only with error_is_null, which keeps us vectorised
    parsed = pc.strptime(safe, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2025-02-30 over to March; a round trip catches impossible dates
    round_trip = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), safe)
    parsed_ok = pc.fill_null(round_trip, False).to_numpy(zero_copy_only=False)
    dates = pc.if_else(pa.array(parsed_ok), pc.cast(parsed, pa.date32()),
                       pa.scalar(None, pa.date32()))
    invalid = present & ~(shaped_np & parsed_ok)
    return Parsed(dates, invalid)


def parse_months(arr: pa.Array) -> Parsed:
    """Months `YYYY-MM` or `YYYYMM` → canonical `YYYY-MM` strings."""
    arr = pc.cast(arr, pa.string())
    norm = pc.replace_substring_regex(arr, pattern=r"^(\d{4})(\d{2})$", replacement=r"\1-\2")
    ok = pc.fill_null(pc.match_substring_regex(norm, pattern=r"^\d{4}-(0[1-9]|1[0-2])$"), False)
    invalid = _present(arr) & ~ok.to_numpy(zero_copy_only=False)
    return Parsed(pc.if_else(ok, norm, pa.scalar(None, pa.string())), invalid)


def parse_money_fen(arr: pa.Array, *, allow_negative: bool = False) -> Parsed:
    """Yuan with ≤2 decimals → integer fen (int64). Money never goes through a float."""
    arr = pc.cast(arr, pa.string())
    arr = pc.replace_substring(arr, pattern=",", replacement="")  # "1,010.50" from Excel
    pattern = r"^-?\d{1,12}(\.\d{1,2})?$" if allow_negative else r"^\d{1,12}(\.\d{1,2})?$"
    ok = pc.fill_null(pc.match_substring_regex(arr, pattern=pattern), False)
    safe = pc.if_else(ok, arr, pa.scalar("0"))
    # pad to exactly two decimals, then drop the point: "941" → "94100", "1.5" → "150"
    padded = pc.replace_substring_regex(safe, pattern=r"^(-?\d+)$", replacement=r"\1.00")
    padded = pc.replace_substring_regex(padded, pattern=r"\.(\d)$", replacement=r".\1_")
    digits = pc.replace_substring(pc.replace_substring(padded, pattern="_", replacement="0"),
                                  pattern=".", replacement="")
    fen = pc.cast(digits, pa.int64())
    fen = pc.if_else(ok, fen, pa.scalar(None, pa.int64()))
    invalid = _present(arr) & ~ok.to_numpy(zero_copy_only=False)
    return Parsed(fen, invalid)


def parse_enum(arr: pa.Array, labels: dict[str, str]) -> Parsed:
    """Map accepted spellings (English values in any case, Chinese labels) to canonical values."""
    arr = pc.cast(arr, pa.string())
    lookup = {value.lower(): value for value in labels} | {label: value for value, label in labels.items()}
    idx = pc.index_in(pc.utf8_lower(arr), value_set=pa.array(list(lookup), pa.string()))
    mapped = pc.take(pa.array(list(lookup.values()), pa.string()), idx)
    invalid = _present(arr) & ~_present(mapped)
    return Parsed(mapped, invalid)


def allowed_values(labels: dict[str, str]) -> str:
    return ", ".join(f"{v} ({label})" for v, label in labels.items())


@dataclass(frozen=True)
class ParsedIds:
    numbers: pa.Array  # normalised 18-character numbers (null where invalid)
    birth_dates: pa.Array  # date32
    sexes: pa.Array  # "M"/"F"
    invalid: np.ndarray
    missing: np.ndarray


def parse_id_numbers(arr: pa.Array, *, today: dt.date | None = None) -> ParsedIds:
    """Vectorised twin of identity.parse: same rules, one pass over the column."""
    today = today or dt.date.today()
    arr = pc.cast(arr, pa.string())
    norm = pc.utf8_upper(pc.replace_substring_regex(arr, pattern=r"\s+", replacement=""))
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), norm)
    missing = ~_present(norm)
    # the length is judged before the fixed-width conversion below, which would cut a
    # 19-character entry down to a valid-looking 18
    right_length = pc.fill_null(pc.equal(pc.utf8_length(norm), 18), False).to_numpy(zero_copy_only=False)
    filled = pc.fill_null(norm, "").to_numpy(zero_copy_only=False).astype("U18")
    ok = right_length & identity.valid_check_digit_mask(np.char.encode(filled, "ascii", "replace"))
    births = parse_dates(pc.utf8_slice_codeunits(norm, 6, 14))
    birth_np = births.values.to_numpy(zero_copy_only=False)
    in_range = np.zeros(len(filled), dtype=bool)
    has_birth = _present(births.values)
    if has_birth.any():
        b = birth_np[has_birth].astype("datetime64[D]")
        in_range[has_birth] = (b >= np.datetime64(identity.EARLIEST_BIRTH)) & (b <= np.datetime64(today))
    ok &= in_range
    prefixes = filled.astype("U6")
    if ok.any():
        unique = np.unique(prefixes[ok])
        known = {p for p in unique if identity.region_prefix_known(p)}
        ok &= np.isin(prefixes, list(known)) if known else False
    sex_digit = pc.utf8_slice_codeunits(norm, 16, 17)
    sexes = pc.if_else(
        pc.is_in(sex_digit, value_set=pa.array(list("13579"))), pa.scalar("M"), pa.scalar("F")
    )
    null_s = pa.scalar(None, pa.string())
    ok_arr = pa.array(ok)
    return ParsedIds(
        numbers=pc.if_else(ok_arr, norm, null_s),
        birth_dates=pc.if_else(ok_arr, births.values, pa.scalar(None, pa.date32())),
        sexes=pc.if_else(ok_arr, sexes, null_s),
        invalid=~ok & ~missing,
        missing=missing,
    )
