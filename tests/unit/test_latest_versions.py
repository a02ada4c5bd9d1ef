"""A corrected record counts at its latest version only (analytics.facts.latest_versions)."""

from __future__ import annotations

import ibis

from safetynet.analytics.facts import latest_versions


def test_only_each_records_highest_version_remains_with_its_columns() -> None:
    rows = {"record_id": ["r1", "r2", "r2", "r3", "r3", "r3", "r4"],
            "version": [1, 1, 2, 3, 1, 2, 1],
            "amount_fen": [100, 200, 250, 330, 300, 310, 400]}
    con = ibis.duckdb.connect()
    t = con.create_table("rows", ibis.memtable(rows))
    out = con.to_pyarrow(latest_versions(t).order_by("record_id"))
    assert out.column_names == ["record_id", "version", "amount_fen"]
    assert out.to_pylist() == [{"record_id": "r1", "version": 1, "amount_fen": 100},
                               {"record_id": "r2", "version": 2, "amount_fen": 250},
                               {"record_id": "r3", "version": 3, "amount_fen": 330},
                               {"record_id": "r4", "version": 1, "amount_fen": 400}]
