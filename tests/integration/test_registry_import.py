"""Register import per docs/contracts/registry.md, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from safetynet.errors import InputFileError
from safetynet.registry import service, store
from tests.factories import TODAY, make_id, sample_register, write_register


def _count(engine, table) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def _all_counts(engine) -> dict[str, int]:  # noqa: ANN001
    return {t.name: _count(engine, t) for t in (
        store.households, store.household_versions, store.persons, store.person_versions,
        store.memberships, store.person_tiers, store.household_tiers)}


@pytest.mark.parametrize("fmt,chinese,encoding", [
    ("csv", False, "utf-8"),
    ("csv", True, "gbk"),
    ("csv", True, "utf-8-sig"),
    ("xlsx", True, None),
    ("parquet", False, None),
])
def test_import_formats_and_headers(engine, tmp_path, fmt, chinese, encoding):
    h, p = sample_register()
    if chinese:  # departments write Chinese values too
        h = [[*r[:2], {"urban": "城镇", "rural": "农村"}[r[2]], *r[3:]] for r in h]
    d = write_register(tmp_path / "reg", h, p, fmt=fmt, chinese=chinese, encoding=encoding or "utf-8")
    report = service.import_register(engine, directory=d, as_of=TODAY)
    assert report.status == "loaded"
    assert report.counts["households"] == {"new": 3, "changed": 0, "unchanged": 0}
    assert report.counts["persons"] == {"new": 6, "changed": 0, "unchanged": 0}
    hh = service.get_household(engine, household_no="H001", unmasked=True, on=TODAY)
    assert [m.name for m in hh.members] == ["张建国", "李秀英", "张伟"]
    assert hh.tier == "dibao"
    assert hh.registration == "urban"
    assert hh.grid_code == "37040200100101"
    head = hh.members[0]
    assert head.monthly_benefit_fen == 32000
    # sex and birth date derived from the id number where the file leaves them empty
    child = hh.members[2]
    assert str(child.birth_date) == "2010-01-20" and child.sex == "M"


def test_reimport_same_files_changes_nothing(engine, tmp_path):
    d = write_register(tmp_path / "reg", *sample_register())
    service.import_register(engine, directory=d, as_of=TODAY)
    before = _all_counts(engine)
    again = service.import_register(engine, directory=d, as_of=TODAY)
    assert again.status == "unchanged"
    assert _all_counts(engine) == before
    assert again.counts["persons"] == {"new": 0, "changed": 0, "unchanged": 6}


def test_changes_keep_history(engine, tmp_path):
    import datetime as dt

    h, p = sample_register()
    service.import_register(engine, directory=write_register(tmp_path / "a", h, p), as_of=TODAY)
    h2, p2 = copy.deepcopy(h), copy.deepcopy(p)
    h2[0][3] = "幸福路9号"            # H001 moved address
    p2[0][2] = "张建华"               # head's name corrected
    p2[4][6] = "dibao"                # H003 head now dibao: household tier changes
    p2[4][7] = "2025-08-01"
    p2[3][10] = "1400.00"             # extremely poor benefit raised
    later = dt.date(2025, 9, 1)
    r = service.import_register(engine, directory=write_register(tmp_path / "b", h2, p2),
                                as_of=later)
    assert r.status == "loaded"
    assert r.counts["households"]["changed"] == 1
    assert r.counts["persons"]["changed"] == 1
    with engine.connect() as c:
        hv = c.execute(select(store.household_versions.c.data)).scalars().all()
        pv = c.execute(select(store.person_versions.c.data)).scalars().all()
    assert hv == [{"region_code": "370402001001", "registration": "urban",
                   "address": "光明路1号", "grid_code": "37040200100101",
                   "phone": "0632-1234567"}]
    assert pv[0]["name"] == "张建国"
    now = service.get_household(engine, household_no="H001", unmasked=True, on=later)
    assert now.version == 2 and now.address == "幸福路9号"
    assert now.members[0].name == "张建华"
    # tier history: H003's old edge tier closed on the new grant date, dibao from then
    before = service.get_household(engine, household_no="H003", on=dt.date(2025, 7, 15))
    after = service.get_household(engine, household_no="H003", on=later)
    assert before.tier == "dibao_edge" and after.tier == "dibao"
    assert before.members[0].tier == "dibao_edge" and after.members[0].tier == "dibao"
    old_benefit = service.get_household(engine, household_no="H002", on=TODAY)
    new_benefit = service.get_household(engine, household_no="H002", on=later)
    assert old_benefit.members[0].monthly_benefit_fen == 135500
    assert new_benefit.members[0].monthly_benefit_fen == 140000


def test_member_leaving_and_moving_household(engine, tmp_path):
    import datetime as dt

    h, p = sample_register()
    service.import_register(engine, directory=write_register(tmp_path / "a", h, p), as_of=TODAY)
    p2 = copy.deepcopy(p)
    p2[2][0] = "H003"       # the child moves to H003
    p2[2][5] = "other"
    later = dt.date(2025, 10, 1)
    r = service.import_register(engine, directory=write_register(tmp_path / "b", h, p2),
                                as_of=later)
    assert r.counts["memberships"]["opened"] == 1 and r.counts["memberships"]["closed"] == 1
    assert len(service.get_household(engine, household_no="H001", on=TODAY).members) == 3
    assert len(service.get_household(engine, household_no="H001", on=later).members) == 2
    assert len(service.get_household(engine, household_no="H003", on=later).members) == 3


def _errors_of(engine, tmp_path, h, p):  # noqa: ANN001, ANN202
    d = write_register(tmp_path / "bad", h, p)
    before = _all_counts(engine)
    with pytest.raises(InputFileError) as e:
        service.import_register(engine, directory=d, as_of=TODAY)
    assert _all_counts(engine) == before, "a rejected import must write nothing"
    return e.value.errors


def test_bad_rows_are_reported_and_nothing_written(engine, tmp_path):
    h, p = sample_register()
    good_id = p[0][1]
    p[0][1] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # check digit
    p[1][4] = "1977-02-30"                                           # impossible date
    p[3][5] = "boss"                                                 # unknown relation
    p[5][10] = "-5"                                                  # negative amount
    h[1][2] = "suburban"                                             # bad registration
    errors = _errors_of(engine, tmp_path, h, p)
    got = {(e.file, e.line, e.column) for e in errors}
    assert ("persons.csv", 2, "id_number") in got
    assert ("persons.csv", 3, "birth_date") in got
    assert ("persons.csv", 5, "relation") in got
    assert ("persons.csv", 7, "monthly_benefit") in got
    assert ("households.csv", 3, "registration") in got
    msg = {e.column: e.reason for e in errors}
    assert "should be" in msg["id_number"]
    assert "head" in msg["relation"] and "户主" in msg["relation"]
    assert "urban" in msg["registration"]


def test_birth_date_and_sex_must_agree_with_id(engine, tmp_path):
    h, p = sample_register()
    p[0][4] = "1975-04-03"
    p[1][3] = "M"
    errors = _errors_of(engine, tmp_path, h, p)
    person_errors = [e for e in errors if e.file == "persons.csv"]
    assert {(e.line, e.column) for e in person_errors} == {(2, "birth_date"), (3, "sex")}
    assert "disagrees with the id number" in person_errors[0].reason
    # the household whose head row is invalid says why it cannot be taken
    household_errors = [e for e in errors if e.file == "households.csv"]
    assert [(e.line, e.reason) for e in household_errors] == [
        (2, "household H001 is skipped: the row of its head (户主), persons.csv line 2, "
            "is invalid")]


def test_structural_errors(engine, tmp_path):
    h, p = sample_register()
    p.append(["H009", make_id("1990-01-01", 99), "孙丽", "", "", "spouse", "", "", "", "", ""])
    p.append(["H001", p[0][1], "张建国", "", "", "other", "", "", "", "", ""])
    h.append(["H004", "370402001001", "urban", "", "", ""])  # no members, so no head
    h.append(["H005", "9999", "urban", "", "", ""])
    errors = _errors_of(engine, tmp_path, h, p)
    reasons = " | ".join(str(e) for e in errors)
    assert "H009 is not in the households file" in reasons
    assert "appears more than once" in reasons
    assert "H004 has no head" in reasons
    assert "not a 12-digit administrative code" in reasons


def test_unknown_county_rejected(engine, tmp_path):
    h, p = sample_register()
    h[2][1] = "379999001001"
    errors = _errors_of(engine, tmp_path, h, p)
    assert [(e.line, e.column) for e in errors] == [(4, "region")]
    assert "county 379999" in errors[0].reason


def test_partial_loads_valid_rows_and_reports_the_rest(engine, tmp_path):
    h, p = sample_register()
    p[3][1] = "370402194005060000"  # H002's only member (its head) invalid → H002 skipped
    d = write_register(tmp_path / "reg", h, p)
    r = service.import_register(engine, directory=d, as_of=TODAY, partial=True)
    assert r.status == "loaded"
    assert r.counts["households"]["new"] == 2 and r.counts["persons"]["new"] == 5
    assert {(e.line, e.column) for e in r.errors} == {(5, "id_number"), (3, "household_id")}


def test_missing_required_column_rejects_file(engine, tmp_path):
    from tests.factories import PERSONS_EN, write_csv

    h, p = sample_register()
    d = write_register(tmp_path / "reg", h, p)
    idx = PERSONS_EN.index("relation")
    write_csv(d / "persons.csv", [c for c in PERSONS_EN if c != "relation"],
              [r[:idx] + r[idx + 1:] for r in p])
    with pytest.raises(InputFileError) as e:
        service.import_register(engine, directory=d, as_of=TODAY)
    assert e.value.errors[0].column == "relation" and e.value.errors[0].line == 1
    assert "required column missing" in e.value.errors[0].reason


def test_unreadable_encoding_rejected(engine, tmp_path):
    d = write_register(tmp_path / "reg", *sample_register())
    (d / "persons.csv").write_bytes(b"household_id,id_number\n\xff\xfe\xfa\xfb\x80\x80\n")
    with pytest.raises(InputFileError) as e:
        service.import_register(engine, directory=d, as_of=TODAY)
    assert "neither UTF-8 nor GB18030" in e.value.errors[0].reason
    assert e.value.errors[0].line == 2


def test_masked_by_default(engine, tmp_path):
    d = write_register(tmp_path / "reg", *sample_register())
    service.import_register(engine, directory=d, as_of=TODAY)
    hh = service.get_household(engine, household_no="H002", on=TODAY)
    assert hh.members[0].name == "王**"
    assert hh.members[0].id_number.startswith("370402") and "*" in hh.members[0].id_number
