import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from safetynet import cells, identity
from tests.factories import make_id

TODAY = dt.date(2025, 7, 1)


def test_valid_number_gives_birth_date_and_sex():
    n = make_id("1950-03-01", 1)  # odd order code: male
    got = identity.parse(n, today=TODAY)
    assert got.number == n
    assert got.birth_date == dt.date(1950, 3, 1)
    assert got.sex == "M"
    assert identity.parse(make_id("1950-03-01", 2), today=TODAY).sex == "F"


def test_region_code_created_after_birth_is_accepted():
    # 370402 (Zaozhuang Shizhong) exists since 1983; stdnum's validate() rejects it for a
    # person born in 1950, but numbers were issued from 1984 on with the current code.
    from stdnum.cn import ric

    n = make_id("1950-03-01", 5, prefix="370402")
    assert not ric.is_valid(n)
    assert identity.parse(n, today=TODAY).number == n


def test_bad_check_digit_names_the_right_digit():
    n = make_id("1980-01-01", 3)
    wrong = n[:-1] + ("0" if n[-1] != "0" else "1")
    with pytest.raises(identity.InvalidIdNumber, match=f"should be {n[-1]}"):
        identity.parse(wrong, today=TODAY)


@pytest.mark.parametrize("birth", ["19800230", "19801301", "19800000"])
def test_impossible_birth_dates_rejected(birth):
    from stdnum.cn import ric

    body = "370402" + birth + "001"
    n = body + ric.calc_check_digit(body + "0")
    with pytest.raises(identity.InvalidIdNumber, match="not a real date"):
        identity.parse(n, today=TODAY)


def test_birth_dates_out_of_range_rejected():
    with pytest.raises(identity.InvalidIdNumber, match="out of range"):
        identity.parse(make_id("2030-01-01", 1), today=TODAY)
    with pytest.raises(identity.InvalidIdNumber, match="out of range"):
        identity.parse(make_id("1899-12-31", 1), today=TODAY)


def test_fifteen_digit_legacy_number_is_refused_with_its_18_digit_form():
    legacy = "370402500301001"  # 1950-03-01, order 001
    with pytest.raises(identity.InvalidIdNumber, match="15-digit") as e:
        identity.parse(legacy, today=TODAY)
    upgraded = identity.upgrade_15(legacy)
    assert upgraded in str(e.value)
    assert identity.parse(upgraded, today=TODAY).birth_date == dt.date(1950, 3, 1)


def test_lowercase_x_and_spaces_are_normalised():
    # find an order code whose check digit is X
    n = next(make_id("1966-06-06", s) for s in range(1, 999) if make_id("1966-06-06", s)[-1] == "X")
    spaced = f" {n[:6]} {n[6:14]} {n[14:-1]}{n[-1].lower()} "
    assert identity.parse(spaced, today=TODAY).number == n


def test_unknown_region_prefix_rejected():
    n = make_id("1980-01-01", 1, prefix="999999")
    with pytest.raises(identity.InvalidIdNumber, match="region code 999999"):
        identity.parse(n, today=TODAY)


def test_wrong_length_and_letters_rejected():
    with pytest.raises(identity.InvalidIdNumber, match="18 characters"):
        identity.parse("37040219500301", today=TODAY)
    with pytest.raises(identity.InvalidIdNumber, match="17 digits"):
        identity.parse("3704021950030100AX", today=TODAY)


def test_vectorised_check_digits_match_stdnum():
    from stdnum.cn import ric

    rng = np.random.default_rng(7)
    bodies = np.array(["".join(map(str, rng.integers(0, 10, 17))) for _ in range(3000)])
    got = identity.check_digits(bodies.astype("S17")).astype(str)
    expected = [ric.calc_check_digit(b + "0") for b in bodies]
    assert list(got) == expected


def test_vectorised_parse_agrees_with_scalar_parse():
    good = [make_id("1950-03-01", 1), make_id("2001-12-31", 2, prefix="110101")]
    bad_check = good[0][:-1] + ("1" if good[0][-1] != "1" else "2")
    samples = good + [bad_check, good[0] + "7", good[0] + "XYZ", "370402195002300011", "12345",
                      make_id("2030-01-01", 1),
                      make_id("1980-01-01", 1, prefix="999999"), None, "  "]
    parsed = cells.parse_id_numbers(pa.array(samples, pa.string()), today=TODAY)
    for i, s in enumerate(samples):
        if s is None or not s.strip():
            assert parsed.missing[i]
            continue
        try:
            identity.parse(s, today=TODAY)
            scalar_ok = True
        except identity.InvalidIdNumber:
            scalar_ok = False
        assert (not parsed.invalid[i]) == scalar_ok, s


def test_masking_convention():
    assert identity.mask_id_number("370402195003010011") == "370402********0011"
    assert identity.mask_name("张建国") == "张**"
    assert identity.mask_name("王五") == "王*"
