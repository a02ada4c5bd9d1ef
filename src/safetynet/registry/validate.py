"""Validation of a register delivery (households + persons files), vectorised per column.

Produces clean rows in canonical form plus one RowError per problem (file, line, column,
reason). Messages are built only for the rows that fail, so a clean million-row file
costs a few column passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet import cells, identity
from safetynet.errors import RowError
from safetynet.registry import model
from safetynet.tabular import TableFile


@dataclass
class Validated:
    households: list[dict] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    household_rows: int = 0
    person_rows: int = 0


class _Collector:
    """Gathers per-row errors for one file; remembers which rows are bad."""

    def __init__(self, tf: TableFile) -> None:
        self.tf = tf
        self.bad = np.zeros(tf.table.num_rows, dtype=bool)
        self.errors: list[RowError] = []

    def flag(self, mask: np.ndarray, column: str, reason) -> None:  # noqa: ANN001
        """`reason` is a string or a function of the row index giving one."""
        for i in np.flatnonzero(mask):
            text = reason(int(i)) if callable(reason) else reason
            self.errors.append(RowError(self.tf.name, self.tf.line_of(int(i)), column, text))
        self.bad |= mask

    def col(self, name: str) -> pa.Array:
        return self.tf.table.column(name).combine_chunks()

    def required(self, name: str) -> None:
        missing = ~pc.is_valid(self.col(name)).to_numpy(zero_copy_only=False)
        self.flag(missing, name, f"{name} is required and is empty")

    def enum(self, name: str, labels: dict[str, str]) -> pa.Array:
        parsed = cells.parse_enum(self.col(name), labels)
        values = self.col(name).to_pylist() if parsed.invalid.any() else None
        self.flag(parsed.invalid, name,
                  lambda i: f"{values[i]!r} is not one of: {cells.allowed_values(labels)}")
        return parsed.values


def _duplicates(values: pa.Array) -> np.ndarray:
    """Mask of every occurrence of a value that occurs more than once (nulls ignored)."""
    arr = np.asarray(pc.fill_null(values, "").to_numpy(zero_copy_only=False), dtype=object)
    uniq, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True)
    return (counts[inverse] > 1) & (arr != "")


def validate_households(tf: TableFile) -> tuple[list[dict], _Collector]:
    c = _Collector(tf)
    for col in ("household_id", "region", "registration"):
        c.required(col)
    hid = c.col("household_id")
    dup = _duplicates(hid)
    hid_list = hid.to_pylist()
    c.flag(dup, "household_id", lambda i: f"household_id {hid_list[i]} appears more than once")
    region = c.col("region")
    region_ok = pc.fill_null(pc.match_substring_regex(region, pattern=r"^\d{12}$"), True)
    region_list = region.to_pylist()
    c.flag(~region_ok.to_numpy(zero_copy_only=False), "region",
           lambda i: f"{region_list[i]!r} is not a 12-digit administrative code "
                     "(village or community), e.g. 370402001001")
    registration = c.enum("registration", model.REGISTRATION_LABELS)
    grid = c.col("grid")
    grid_ok = pc.fill_null(pc.match_substring_regex(grid, pattern=r"^\d{1,2}$"), True)
    grid_list = grid.to_pylist()
    c.flag(~grid_ok.to_numpy(zero_copy_only=False), "grid",
           lambda i: f"{grid_list[i]!r} is not a grid number within the community (1–2 digits)")
    phone = c.col("phone")
    phone_ok = pc.fill_null(pc.match_substring_regex(phone, pattern=r"^[0-9+\- ]{5,20}$"), True)
    phone_list = phone.to_pylist()
    c.flag(~phone_ok.to_numpy(zero_copy_only=False), "phone",
           lambda i: f"{phone_list[i]!r} is not a phone number (digits, +, -)")

    good = np.flatnonzero(~c.bad)
    cols = {
        "household_no": hid_list,
        "region_code": region_list,
        "registration": registration.to_pylist(),
        "address": c.col("address").to_pylist(),
        "grid": grid_list,
        "phone": phone_list,
    }
    rows = []
    for i in good:
        row = {k: v[i] for k, v in cols.items()}
        g = row.pop("grid")
        row["grid_code"] = f"{row['region_code']}{int(g):02d}" if g else None
        row["line"] = tf.line_of(int(i))
        rows.append(row)
    return rows, c


def validate_persons(
    tf: TableFile, household_nos: set[str], *, today: dt.date
) -> tuple[list[dict], _Collector, set[str]]:
    """Rows, errors, and the household ids that have exactly one head."""
    c = _Collector(tf)
    for col in ("household_id", "id_number", "name", "relation"):
        c.required(col)
    raw_ids = c.col("id_number")
    ids = cells.parse_id_numbers(raw_ids, today=today)
    raw_list = raw_ids.to_pylist()

    def id_reason(i: int) -> str:
        try:
            identity.parse(raw_list[i], today=today)
        except identity.InvalidIdNumber as e:
            return f"{raw_list[i]!r}: {e}"
        return f"{raw_list[i]!r} is not a valid resident identity number"

    c.flag(ids.invalid, "id_number", id_reason)
    numbers = ids.numbers
    dup = _duplicates(numbers)
    num_list = numbers.to_pylist()
    hid_list = c.col("household_id").to_pylist()
    c.flag(dup, "id_number",
           lambda i: f"{identity.mask_id_number(num_list[i])} appears more than once; a person "
                     "belongs to one household at a time")

    unknown_household = np.array([h is not None and h not in household_nos for h in hid_list],
                                 dtype=bool)
    c.flag(unknown_household, "household_id",
           lambda i: f"household_id {hid_list[i]} is not in the households file")

    sex = c.enum("sex", model.SEX_LABELS)
    sex_clash = pc.fill_null(pc.not_equal(sex, ids.sexes), False).to_numpy(zero_copy_only=False)
    c.flag(sex_clash, "sex", lambda i: f"sex {sex[i].as_py()} disagrees with the id number "
                                       f"(its 17th digit says {ids.sexes[i].as_py()})")
    birth = cells.parse_dates(c.col("birth_date"))
    c.flag(birth.invalid, "birth_date", f"not a date; use {cells.DATE_FORMS}")
    birth_clash = pc.fill_null(pc.not_equal(birth.values, ids.birth_dates), False)
    birth_clash_np = birth_clash.to_numpy(zero_copy_only=False)
    c.flag(birth_clash_np, "birth_date",
           lambda i: f"birth date {birth.values[i].as_py()} disagrees with the id number "
                     f"({ids.birth_dates[i].as_py()})")

    relation = c.enum("relation", model.RELATION_LABELS)
    tier = c.enum("tier", model.TIER_LABELS)
    support_form = c.enum("support_form", model.SUPPORT_FORM_LABELS)
    care_level = c.enum("care_level", model.CARE_LEVEL_LABELS)
    since = cells.parse_dates(c.col("tier_since"))
    c.flag(since.invalid, "tier_since", f"not a date; use {cells.DATE_FORMS}")
    future = pc.fill_null(pc.greater(since.values, pa.scalar(today, pa.date32())), False)
    c.flag(future.to_numpy(zero_copy_only=False), "tier_since",
           lambda i: f"tier_since {since.values[i].as_py()} is in the future")
    benefit = cells.parse_money_fen(c.col("monthly_benefit"))
    benefit_raw = c.col("monthly_benefit").to_pylist()
    c.flag(benefit.invalid, "monthly_benefit",
           lambda i: f"{benefit_raw[i]!r} is not an amount: {cells.MONEY_FORM}, not negative")

    rel_list = relation.to_pylist()
    heads: dict[str, list[int]] = {}
    for i, (h, r) in enumerate(zip(hid_list, rel_list, strict=True)):
        if r == "head" and h is not None:
            heads.setdefault(h, []).append(i)
    many_heads = np.zeros(len(hid_list), dtype=bool)
    for rows in heads.values():
        if len(rows) > 1:
            many_heads[rows] = True
    c.flag(many_heads, "relation",
           lambda i: f"household {hid_list[i]} has more than one head (户主)")

    cols = {
        "household_no": hid_list,
        "id_number": num_list,
        "name": c.col("name").to_pylist(),
        "sex": ids.sexes.to_pylist(),
        "birth_date": ids.birth_dates.to_pylist(),
        "relation": rel_list,
        "tier": tier.to_pylist(),
        "tier_since": since.values.to_pylist(),
        "support_form": support_form.to_pylist(),
        "care_level": care_level.to_pylist(),
        "monthly_benefit_fen": benefit.values.to_pylist(),
    }
    rows = []
    for i in np.flatnonzero(~c.bad):
        row = {k: v[i] for k, v in cols.items()}
        row["tier"] = row["tier"] or model.Tier.none.value
        row["line"] = tf.line_of(int(i))
        rows.append(row)
    # Every household needs a (valid) head; the caller reports the ones without.
    households_with_head = {r["household_no"] for r in rows if r["relation"] == "head"}
    return rows, c, households_with_head


def validate_register(households: TableFile, persons: TableFile, *, today: dt.date) -> Validated:
    """Both files together: persons must point at a household of the file, and every
    household needs exactly one head. A household whose own row is invalid takes its
    members down with it (reported once, on the household row)."""
    h_rows, hc = validate_households(households)
    all_household_nos = {h for h in households.table.column("household_id").to_pylist() if h}
    p_rows, pc_, with_head = validate_persons(persons, all_household_nos, today=today)
    headless = [r for r in h_rows if r["household_no"] not in with_head]
    head_lines = _head_lines(persons)
    for r in headless:
        line = head_lines.get(r["household_no"])
        reason = (f"household {r['household_no']} is skipped: the row of its head (户主), "
                  f"{persons.name} line {line}, is invalid" if line else
                  f"household {r['household_no']} has no head (户主) among its members in "
                  f"{persons.name}")
        hc.errors.append(RowError(households.name, r["line"], "household_id", reason))
    bad_households = {r["household_no"] for r in headless}
    good_households = [r for r in h_rows if r["household_no"] not in bad_households]
    good_nos = {r["household_no"] for r in good_households}
    return Validated(
        households=good_households,
        persons=[p for p in p_rows if p["household_no"] in good_nos],
        errors=hc.errors + pc_.errors,
        household_rows=households.table.num_rows,
        person_rows=persons.table.num_rows,
    )


def _head_lines(persons: TableFile) -> dict[str, int]:
    """Household id → line of a row that names its head, valid or not."""
    rel = cells.parse_enum(persons.table.column("relation").combine_chunks(),
                           model.RELATION_LABELS).values.to_pylist()
    hids = persons.table.column("household_id").to_pylist()
    return {h: persons.line_of(i) for i, (h, r) in enumerate(zip(hids, rel, strict=True))
            if r == "head" and h}
