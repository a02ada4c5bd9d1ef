"""The ingest fast paths give exactly the results of the `safetynet.cells` parsers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from safetynet import cells, identity
from safetynet.feeds import fastparse
from tests.factories import make_id

TODAY = dt.date(2026, 11, 23)


def _ids() -> list[str | None]:
    good = [make_id("1950-03-04", i) for i in range(1, 6)]
    x = next(make_id("1980-01-01", i) for i in range(1000) if make_id("1980-01-01", i).endswith("X"))
    rng = np.random.default_rng(5)
    bodies = np.char.add("370402", np.char.zfill(rng.integers(0, 10**11, 300).astype(str), 11))
    random = np.char.add(bodies, identity.check_digits(bodies.astype("S17")).astype(str)).tolist()
    return [*good, x, x.lower(), f" {good[0]}", f"{good[1][:9]} {good[1][9:]}", good[2][:-1] + "0",
            good[2][:-1] + "1", good[3][:17], good[3] + "1", "", None, "37040219500230123X",
            "370402202612311234", "370402189912311234", "990402195003041234",
            "身份证号码身份证号码身份证号码身份证", "3704021950030412X4", "37040219500304123Y", *random]


def _same_ids(arr: pa.Array) -> None:
    want = cells.parse_id_numbers(arr, today=TODAY)
    got = fastparse.parse_id_numbers(arr, today=TODAY)
    assert got.numbers.to_pylist() == want.numbers.to_pylist()
    assert got.birth_dates.to_pylist() == want.birth_dates.to_pylist()
    assert got.sexes.to_pylist() == want.sexes.to_pylist()
    assert got.invalid.tolist() == want.invalid.tolist()
    assert got.missing.tolist() == want.missing.tolist()


def test_id_numbers_same_as_cells() -> None:
    ids = _ids()
    arr = pa.array(ids, pa.string())
    _same_ids(arr)
    assert fastparse.parse_id_numbers(arr, today=TODAY).invalid.sum() > 10  # the awkward ones are judged
    _same_ids(arr.slice(3, 40))  # an array with an offset
    _same_ids(pa.array([i for i in ids if i and len(i) == 18 and i.isascii()], pa.string()))
    _same_ids(pa.array([], pa.string()))


@pytest.mark.parametrize("cells_in", [
    ["2025-03-15", "1999-12-31", None],
    ["2025-03-15", "2025-02-30", "2024-02-29", None],
    ["2025/3/5", "20250305", "2025-3-05", "x", ""],
    ["2025-03-15", "2025-03-15 10:00"],
])
def test_dates_same_as_cells(cells_in: list) -> None:
    arr = pa.array(cells_in, pa.string())
    want, got = cells.parse_dates(arr), fastparse.parse_dates(arr)
    assert got.values.to_pylist() == want.values.to_pylist()
    assert got.invalid.tolist() == want.invalid.tolist()


def test_money_same_as_cells() -> None:
    arr = pa.array(["941", "1010.50", "1,010.5", "0.01", "-5", "1e5", "5.", ".5", "+5", "1.234",
                    "999999999999.99", "1234567890123", " 5", "", None, "0007"], pa.string())
    want, got = cells.parse_money_fen(arr), fastparse.parse_money_fen(arr)
    assert got.values.to_pylist() == want.values.to_pylist()
    assert got.invalid.tolist() == want.invalid.tolist()
    assert got.values.to_pylist()[:4] == [94100, 101050, 101050, 1]


def test_money_same_as_cells_on_a_slice_without_commas() -> None:
    # an array with an offset: the fen are read from the decimal buffer at the right place
    arr = pa.array(["1", "2.5", "999999999999.99", "x", None, "0.07", "-1"], pa.string()).slice(1, 5)
    want, got = cells.parse_money_fen(arr), fastparse.parse_money_fen(arr)
    assert got.values.to_pylist() == want.values.to_pylist() == [250, 99999999999999, None, None, 7]
    assert got.invalid.tolist() == want.invalid.tolist()


@pytest.mark.parametrize("cells_in", [
    ["2025-03", "2025-12", None],
    ["2025-03", "2025-13"],
    ["2025-00", "2025-01"],
    ["202503", "2025-03"],
    ["2025/03", "abcd-01", "2025-3-", ""],
    [None, None],
])
def test_months_same_as_cells(cells_in: list) -> None:
    arr = pa.array(cells_in, pa.string())
    want, got = cells.parse_months(arr), fastparse.parse_months(arr)
    assert got.values.to_pylist() == want.values.to_pylist()
    assert got.invalid.tolist() == want.invalid.tolist()
