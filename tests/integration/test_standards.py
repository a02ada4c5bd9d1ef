"""Local standards as dated data: import with history, fallback up the region tree,
derived linked standards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from safetynet.errors import InputFileError
from safetynet.standards import service
from tests.factories import write_csv

HEADER = ["region", "registration", "kind", "effective_from", "amount", "source"]


def test_import_lookup_and_history(engine, tmp_path):
    f = write_csv(tmp_path / "std.csv", HEADER, [
        ["370000000000", "urban", "dibao", "2024-01-01", "1010", "鲁民〔2023〕x号"],
        ["370402", "urban", "dibao", "2025-01-01", "941", "枣庄市中区2025"],
        ["370402", "rural", "dibao", "2025-01-01", "824", "枣庄市中区2025"],
        ["370402", "urban", "extremely_poor_basic", "2025-01-01", "1255", ""],
    ])
    report = service.import_standards(engine, path=f)
    assert (report.new, report.changed, report.unchanged) == (4, 0, 0)
    on = dt.date(2025, 7, 1)
    assert service.lookup(engine, region="370402001001", registration="urban", on=on) == {
        "dibao": 94100, "extremely_poor_basic": 125500}
    # before the county set its own, the province's value applies
    assert service.lookup(engine, region="370402", registration="urban", on=dt.date(2024, 6, 1)) == {
        "dibao": 101000}
    # a county without its own standard falls back to the province
    assert service.lookup(engine, region="370403", registration="urban", on=on) == {"dibao": 101000}
    again = service.import_standards(engine, path=f)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 4)

    fix = write_csv(tmp_path / "fix.csv", HEADER,
                    [["370402", "urban", "dibao", "2025-01-01", "951", "更正"]])
    assert service.import_standards(engine, path=fix).changed == 1
    assert service.lookup(engine, region="370402", registration="urban", on=on)["dibao"] == 95100
    from sqlalchemy import select

    from safetynet.standards import store
    with engine.connect() as c:
        old = c.execute(select(store.standard_versions.c.amount_fen)).scalars().all()
    assert old == [94100]


def test_bad_rows_rejected_whole(engine, tmp_path):
    f = write_csv(tmp_path / "std.csv", HEADER, [
        ["370402", "urban", "dibao", "2025-01-01", "941", ""],
        ["379999", "urban", "dibao", "2025-01-01", "941", ""],
        ["370402", "city", "pension", "2025-13-01", "-1", ""],
    ])
    with pytest.raises(InputFileError) as e:
        service.import_standards(engine, path=f)
    got = {(x.line, x.column) for x in e.value.errors}
    assert got == {(3, "region"), (4, "registration"), (4, "kind"), (4, "effective_from"), (4, "amount")}
    assert service.lookup(engine, region="370402", registration="urban", on=dt.date(2025, 7, 1)) == {}


def test_derive_linked_standards_from_new_dibao(engine):
    written = service.derive_from_dibao(
        engine, region="370402", effective_from=dt.date(2026, 1, 1),
        dibao_fen={"urban": 100700, "rural": 88200}, source="2026年提标通知")
    # 1.3 × 1007 = 1309.1 → 1309; 1.5 × 1007 = 1510.5 → 1511 (half up); 10 × 1007
    assert written["urban"] == {"dibao": 100700, "extremely_poor_basic": 130900,
                                "edge_income_line": 151100, "temporary_assistance_cap": 1007000}
    assert written["rural"]["extremely_poor_basic"] == 114700  # 1146.6 → 1147
    got = service.lookup(engine, region="370402001001", registration="rural", on=dt.date(2026, 3, 1))
    assert got["dibao"] == 88200 and got["extremely_poor_basic"] == 114700
    rows = service.history(engine, region="370402")
    derived = [r for r in rows if r["kind"] == "extremely_poor_basic"]
    assert all(r["derived_from"] is not None and "derived from dibao" in r["source"] for r in derived)


def test_household_standards_adapter(engine, tmp_path):
    """One standards → rule-input adapter: the store's values per household (county value,
    else up the tree), the rules' defaults elsewhere, and the same mapping for one household."""
    import numpy as np

    service.import_standards(engine, path=write_csv(tmp_path / "std.csv", HEADER, [
        ["370402", "urban", "dibao", "2025-01-01", "941", ""],
        ["370400", "rural", "dibao", "2025-01-01", "800", ""],
        ["370402", "urban", "care_self_care", "2025-01-01", "120", ""],
        ["370402", "urban", "care_partial", "2025-01-01", "310", ""],
        ["370402", "urban", "care_full", "2025-01-01", "620", ""],
        ["370403", "urban", "care_full", "2025-01-01", "700", ""],  # one level only: not used
    ]))
    on = dt.date(2025, 7, 31)
    d = service.rule_defaults(on)
    s = service.household_standards(engine, counties=np.array(["370402", "370402", "370403", "370403"]),
                                    registrations=np.array(["urban", "rural", "urban", "rural"]), on=on)
    assert s.dibao_fen.tolist() == [94100, 80000, d.dibao["urban"], 80000]
    assert s.dibao_stored.tolist() == [True, True, False, True]
    floor = [int(x * d.basic_min_ratio + Decimal("0.5")) for x in (94100, 80000)]
    assert s.extremely_poor_basic_fen.tolist() == [floor[0], floor[1], d.extremely_poor_basic["urban"],
                                                   floor[1]]
    assert s.care_fen["care_full"].tolist() == [62000, d.care["care_full"], d.care["care_full"],
                                                d.care["care_full"]]
    cols = s.columns()
    assert cols["dibao_standard"][0] == 941.0 and cols["care_standard_self_care"][0] == 120.0
    assert service.local_policy_for(engine, region="370402", registration="urban", on=on) == {
        "dibao_standard": 941.0, "care_standard": {"self_care": 120.0, "partial": 310.0, "full": 620.0}}
    assert service.local_policy_for(engine, region="370403", registration="urban", on=on) is None
    assert service.local_policy_for(engine, region="379999", registration="urban", on=on) is None
    assert service.lookup_many(engine, places=[("370403", "rural"), ("370402", "urban")], on=on) == {
        ("370403", "rural"): {"dibao": 80000},
        ("370402", "urban"): {"dibao": 94100, "care_self_care": 12000, "care_partial": 31000,
                              "care_full": 62000}}
