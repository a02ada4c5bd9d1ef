"""The same catalogue on DuckDB and on Spark gives the same warnings (issue 5: one set of Ibis
expressions, two engines). The Spark run records over the DuckDB run of the same month: identical
warnings (rule, person, level, value and evidence) leave every one of them unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safetynet.feeds import service as feeds_service
from safetynet.monitoring.service import run_month
from safetynet.monitoring.warnings import list_warnings
from safetynet.registry import service as registry_service

pytest.importorskip("pyspark", reason="the spark extra is part of the dev environment (pyproject)")


def test_duckdb_and_spark_give_identical_warnings(engine: Engine, tmp_path: Path, synthetic_province: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_SPARK_PARTITIONS", "2")  # a small province: few shuffle tasks
    registry_service.import_register(engine, directory=synthetic_province / "registry",
                                     as_of=dt.date(2025, 1, 1), partial=True)
    lake = tmp_path / "lake"
    feeds_service.ingest(engine, paths=[synthetic_province / "feeds"], lake_dir=lake, actor="test")

    duck = run_month(engine, month="2025-02", lake_dir=lake, actor="test", backend="duckdb")
    assert duck["warnings"] > 20 and len(duck["by_rule"]) >= 8, duck["by_rule"]
    assert duck["recorded"]["created"] == duck["warnings"]
    before = list_warnings(engine, month="2025-02", page_size=None)["items"]

    spark = run_month(engine, month="2025-02", lake_dir=lake, actor="test", backend="spark")
    assert spark["engine"] == "spark"
    assert spark["by_rule"] == duck["by_rule"] and spark["by_level"] == duck["by_level"]
    assert spark["recorded"] == {"created": 0, "updated": 0, "unchanged": duck["warnings"]}
    after = list_warnings(engine, month="2025-02", page_size=None)["items"]
    assert after == before


def test_income_inputs_agree_over_a_whole_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed rows-per-month counters use shifts past 32 bits (month M−11 is bits 55–59): a
    bare literal is a 32-bit int on Spark and shifted modulo 32, which two months of data never
    showed."""
    import pyarrow as pa

    from safetynet.analytics.service import BACKENDS
    from safetynet.monitoring.inputs import income_table, month_has_rows, month_labels, window_income

    monkeypatch.setenv("SAFETYNET_SPARK_PARTITIONS", "2")
    labels = month_labels("2025-12")
    # A: a wage every month, two rows in M−11 (1 + 2 fen); B: one wage, in M−10
    wages = [("A", label, 100_00 + k) for k, label in enumerate(labels[:11])]
    wages += [("A", labels[11], 1), ("A", labels[11], 2), ("B", labels[10], 500_00)]
    rows = {"record_id": [f"R{i}" for i in range(len(wages))], "id_number": [w[0] for w in wages],
            "month": [w[1] for w in wages], "kind": ["wage"] * len(wages), "employer": ["厂"] * len(wages),
            "amount_fen": [w[2] for w in wages], "version": [1] * len(wages)}
    si = pa.table(rows)
    got = {}
    for name in ("duckdb", "spark"):
        b = BACKENDS[name](tmp_path / name)
        try:
            t = b.from_arrow("si", si)
            inc = income_table(t, labels)
            inc = inc.mutate(**{f"has_{k}": month_has_rows(inc.rows_by_month, k) for k in range(12)})
            got[name] = (b.to_arrow(inc.order_by("id_number")).to_pylist(),
                         b.to_arrow(window_income(t, labels, [1, 10, 11]).order_by("id_number")).to_pylist())
        finally:
            b.close()
    assert got["duckdb"] == got["spark"]
    a, b_ = got["duckdb"][0]
    assert [a[f"has_{k}"] for k in range(12)] == [1] * 12 and a["income_month_fen"] == 100_00
    assert [b_[f"has_{k}"] for k in range(12)] == [0] * 10 + [1, 0]
    assert a["rows_by_month"] >> 55 == 2  # two rows in M−11: the counter, not a bit
    assert got["duckdb"][1] == [{"id_number": "A", "income_fen": 100_01 + 100_10 + 3},
                                {"id_number": "B", "income_fen": 500_00}]
