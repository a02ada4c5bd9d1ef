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
