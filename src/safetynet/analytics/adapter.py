"""Household facts (Arrow tables from `analytics.service.household_facts`) → the column
inputs of `rules.service.assess_many`.

Mapping (facts column → rule input; money fen → yuan):
- persons: household_id → `household` (position in the household columns), birth_date,
  disability_category, disability_grade, student, income_<item>_avg_fen → income_<item>
  (monthly average over the observed months); registered_tier → supporter (see `_supporter`).
  Self-care items are not in the data: care level stays the rules' default (self-care).
- households: registration, deposits_fen → deposits, homes, business_capital_fen →
  business_capital, car/motorcycle/disability_vehicle/other_vehicle counts,
  expenditure_{medical,education,disaster}_12m_fen → expenditure_<item>_12m.
  Rehabilitation and living expenditure have no feed: left out (the rules default them to 0).
Households without current members cannot be assessed and are left out; the returned
`household_ids` says which household each position is.
Local standards are not facts: pass them as extra household columns (`local`, e.g.
{"dibao_standard": array}) or let the rules take their dated defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.analytics.facts import INCOME_ITEMS

HOUSEHOLD_COUNTS = ("homes", "car_count", "motorcycle_count", "disability_vehicle_count",
                    "other_vehicle_count")
HOUSEHOLD_MONEY = {"deposits_fen": "deposits", "business_capital_fen": "business_capital",
                   "expenditure_medical_12m_fen": "expenditure_medical_12m",
                   "expenditure_education_12m_fen": "expenditure_education_12m",
                   "expenditure_disaster_12m_fen": "expenditure_disaster_12m"}


def _np(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def _yuan(table: pa.Table, name: str) -> np.ndarray:
    return _np(table, name).astype(np.float64) / 100.0


def _supporter(persons: pa.Table) -> np.ndarray:
    """No feed and no register column says whether a person has a capable legal supporter.
    An enrolment as extremely poor records that the township verified it (no supporter, or
    one unable to support), so it carries over; anyone else is taken to have one, the
    conservative reading: data alone never makes a new extremely-poor person."""
    enrolled = pc.fill_null(pc.equal(persons.column("registered_tier"), "extremely_poor"), False)
    return np.where(enrolled.to_numpy(zero_copy_only=False), "none", "able")


def to_assess_inputs(households: pa.Table, persons: pa.Table, *,
                     local: Mapping[str, Any] | None = None) -> tuple[dict, dict, np.ndarray]:
    """(households columns, persons columns, household_ids) for `assess_many`. `local`
    columns must follow the order of `households` (they are filtered like it)."""
    keep = pc.greater(households.column("members"), 0)
    kept = households.filter(keep)
    hid = _np(kept, "household_id").astype(np.int64)
    order = np.argsort(hid, kind="stable")
    pid = _np(persons, "household_id").astype(np.int64)
    pos = np.searchsorted(hid, pid, sorter=order)
    pos = np.clip(pos, 0, max(len(hid) - 1, 0))
    found = len(hid) > 0 and bool(np.all(hid[order[pos]] == pid)) if len(pid) else True
    if not found:
        raise ValueError("persons refer to households missing from the households table")
    person_cols: dict[str, Any] = {
        "household": order[pos] if len(pid) else np.zeros(0, np.int64),
        "birth_date": _np(persons, "birth_date").astype("datetime64[D]"),
        "disability_category": _np(persons, "disability_category").astype(str),
        "disability_grade": _np(persons, "disability_grade").astype(np.int64),
        "student": _np(persons, "student").astype(bool),
        "supporter": _supporter(persons),
    }
    for item in INCOME_ITEMS:
        person_cols[f"income_{item}"] = _yuan(persons, f"income_{item}_avg_fen")
    household_cols: dict[str, Any] = {"registration": _np(kept, "registration").astype(str)}
    for name in HOUSEHOLD_COUNTS:
        household_cols[name] = _np(kept, name).astype(np.int64)
    for src, dst in HOUSEHOLD_MONEY.items():
        household_cols[dst] = _yuan(kept, src)
    if local:
        mask = keep.to_numpy(zero_copy_only=False)
        for name, values in local.items():
            household_cols[name] = np.asarray(values)[mask]
    return household_cols, person_cols, hid
