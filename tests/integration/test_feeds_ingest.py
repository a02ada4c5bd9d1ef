"""Department feed ingestion (docs/contracts/feeds.md) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from safetynet.feeds import service, store
from safetynet.feeds.cli import app as feeds_app
from safetynet.feeds.model import FEED_BY_NAME, LINKAGE_REASON, FeedFileNameError, parse_file_name
from tests.factories import make_id, write_csv, write_parquet, write_xlsx

MED_EN = ["record_id", "id_number", "name", "birth_date", "region", "settled_on", "kind",
          "total_cost", "fund_paid", "out_of_pocket", "diagnosis_group"]
MED_ZH = ["记录编号", "身份证号", "姓名", "出生日期", "行政区划代码", "结算日期", "类别", "总费用",
          "统筹支付", "个人自付", "病种"]
DIS_EN = ["record_id", "id_number", "name", "birth_date", "region", "category", "grade", "issued_on",
          "status"]
SPEC_KEYS = ["file", "feed", "month", "status", "rows", "accepted", "linked", "quarantined",
             "duplicate", "corrected", "errors"]


def med_rows(n: int = 3, start: int = 1) -> list[list[str]]:
    return [[f"YB{i:06d}", make_id("1950-03-04", i), "王桂兰", "1950-03-04", "370402001001",
             "2025-10-0" + str(1 + i % 9), "inpatient", "1234.56", "1000", "234.5", "白内障"]
            for i in range(start, start + n)]


def ingest(engine: Engine, tmp_path: Path, *paths: Path) -> list[service.LoadReport]:
    return service.ingest(engine, paths=list(paths), lake_dir=tmp_path / "lake", actor="test")


def count(engine: Engine, table) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def records(engine: Engine, feed: str = "medical") -> int:
    """Stored record versions of a feed (the lake's record index)."""
    return len(service.current_records(engine, feed=feed))


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gbk-zh", "xlsx", "parquet"])
def test_each_format_and_encoding_loads(engine: Engine, tmp_path: Path, fmt: str) -> None:
    rows = med_rows(3)
    rows[0][5] = "2025/10/02"
    rows[1][5] = "20251003"
    d = tmp_path / "in"
    if fmt == "utf-8":
        path = write_csv(d / "medical_202510.csv", MED_EN, rows)
    elif fmt == "utf-8-sig":
        path = write_csv(d / "medical_202510.csv", MED_EN, rows, "utf-8-sig")
    elif fmt == "gbk-zh":
        path = write_csv(d / "medical_202510.csv", MED_ZH, rows, "gbk")
    elif fmt == "xlsx":
        path = write_xlsx(d / "medical_202510.xlsx", MED_ZH, rows)
    else:
        path = write_parquet(d / "medical_202510.parquet", MED_EN, rows)
    [r] = ingest(engine, tmp_path, path)
    assert (r.status, r.rows, r.accepted, r.quarantined, r.errors) == ("loaded", 3, 3, 0, [])
    assert (r.feed, r.month) == ("medical", "2025-10")
    [lake] = service.lake_files(engine, "medical")
    assert lake.parent.name == "month=2025-10" and lake.parent.parent.name == "medical"
    t = pq.read_table(lake)
    assert t.schema.field("settled_on").type == pa.date32()
    assert t.schema.field("total_cost_fen").type == pa.int64()
    assert t.column("total_cost_fen").to_pylist() == [123456] * 3
    assert t.column("out_of_pocket_fen").to_pylist() == [23450] * 3
    assert [str(x) for x in t.column("settled_on").to_pylist()] == ["2025-10-02", "2025-10-03", "2025-10-04"]
    assert t.column("line").to_pylist() == [2, 3, 4]
    assert set(t.column("load_id").to_pylist()) == {r.load_id}
    assert records(engine) == 3


def test_part_and_file_name_rules() -> None:
    n = parse_file_name("social_insurance_202510_02.parquet")
    assert (n.feed.name, n.month, n.part) == ("social_insurance", "2025-10", "02")
    for bad in ("medical.csv", "medicine_202510.csv", "medical_202513.csv", "medical_202510.txt"):
        with pytest.raises(FeedFileNameError):
            parse_file_name(bad)


def test_missing_required_column_rejects_whole_file(engine: Engine, tmp_path: Path) -> None:
    header = [h for h in MED_EN if h != "settled_on"]
    rows = [r[:5] + r[6:] for r in med_rows(2)]
    [r] = ingest(engine, tmp_path, write_csv(tmp_path / "medical_202510.csv", header, rows))
    assert r.status == "rejected" and r.accepted == 0
    assert any(e["line"] == 1 and e["column"] == "settled_on" for e in r.errors)
    assert records(engine) == 0
    assert service.lake_files(engine, "medical") == []
    with engine.connect() as c:
        status = c.execute(select(store.feed_loads.c.status)).scalar_one()
    assert status == "rejected"


def test_bad_encoding_rejected(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "medical_202510.csv"
    path.write_bytes(",".join(MED_EN).encode() + b"\nYB1,\xff\xfe\xff,x\n")
    [r] = ingest(engine, tmp_path, path)
    assert r.status == "rejected"
    assert "UTF-8" in r.errors[0]["reason"]
    assert records(engine) == 0


def test_bad_values_quarantined_with_reason_and_line(engine: Engine, tmp_path: Path) -> None:
    good = make_id("1960-01-01", 5)
    rows = [
        ["CL1", good, "张三", "1960-01-01", "370402001001", "physical", "2", "2020-01-01", "valid"],
        ["CL2", good[:-1] + ("0" if good[-1] != "0" else "1"), "李四", "", "", "visual", "1", "", "valid"],
        ["CL3", make_id("1961-01-01", 7), "王五", "", "", "hearing", "3", "2020-02-30", "valid"],
        ["CL4", make_id("1962-01-01", 9), "赵六", "", "", "smell", "9", "", "valid"],
        ["CL5", "", "钱七", "", "", "physical", "1", "", "valid"],
    ]
    [r] = ingest(engine, tmp_path, write_csv(tmp_path / "disability_202510.csv", DIS_EN, rows))
    assert (r.status, r.rows, r.accepted, r.quarantined) == ("loaded", 5, 1, 4)
    by_line = {}
    for e in r.errors:
        by_line.setdefault(e["line"], []).append(e)
    assert by_line[3][0]["column"] == "id_number" and "check digit" in by_line[3][0]["reason"]
    assert by_line[4][0]["column"] == "issued_on" and "not a date" in by_line[4][0]["reason"]
    assert {e["column"] for e in by_line[5]} == {"category", "grade"}
    assert by_line[6][0]["column"] == "id_number" and "required" in by_line[6][0]["reason"]
    q = service.quarantined_rows(engine, load_id=r.load_id)
    assert [x["line"] for x in q] == [3, 4, 5, 6]
    assert q[0]["row"]["record_id"] == "CL2" and "check digit" in q[0]["reason"]

    med = med_rows(3)
    med[0][7] = "-5.00"
    med[1][1] = ""
    med[2][1] = "123"
    [m] = ingest(engine, tmp_path, write_csv(tmp_path / "medical_202510.csv", MED_EN, med))
    assert (m.accepted, m.quarantined, m.linked) == (0, 3, 0)
    assert "negative" in m.errors[0]["reason"] and m.errors[0]["column"] == "total_cost"
    assert m.errors[0]["line"] == 2
    assert [e["reason"] for e in m.errors[1:]] == [LINKAGE_REASON, LINKAGE_REASON]


def test_same_file_twice_is_unchanged(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "medical_202510.csv", MED_EN, med_rows(4))
    [a] = ingest(engine, tmp_path, path)
    lake = service.lake_files(engine, "medical")
    before = (count(engine, store.feed_loads), records(engine), lake[0].stat().st_mtime_ns)
    [b] = ingest(engine, tmp_path, path)
    assert (a.status, b.status) == ("loaded", "unchanged")
    assert b.as_dict()["accepted"] == 4
    after = (count(engine, store.feed_loads), records(engine), lake[0].stat().st_mtime_ns)
    assert before == after


@pytest.mark.parametrize("bucket_rows", [service.CLASSIFY_BUCKET_ROWS, 1])
def test_duplicates_and_corrections_keep_history(engine: Engine, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, bucket_rows: int) -> None:
    """Also with the record_ids classified in several hash buckets (one query each), as a
    re-delivered snapshot of millions of rows is."""
    monkeypatch.setattr(service, "CLASSIFY_BUCKET_ROWS", bucket_rows)
    rows = med_rows(3)
    [a] = ingest(engine, tmp_path, write_csv(tmp_path / "a" / "medical_202510.csv", MED_EN, [*rows, rows[0]]))
    assert (a.accepted, a.duplicate) == (3, 1)  # a row repeated inside one file
    changed = [r[:] for r in rows]
    changed[1][7] = "2000.00"
    [b] = ingest(engine, tmp_path, write_csv(tmp_path / "b" / "medical_202511.csv", MED_EN,
                                             [*changed, *med_rows(1, start=9)]))
    assert (b.rows, b.accepted, b.duplicate, b.corrected) == (4, 2, 2, 1)
    recs = [r for r in service.current_records(engine, feed="medical") if r["record_id"] == "YB000002"]
    assert [(r["version"], bool(r["is_current"])) for r in recs] == [(1, False), (2, True)]
    assert recs[1]["load_id"] == b.load_id
    lake = pq.read_table(service.lake_files(engine, "medical")[1])
    assert lake.column("record_id").to_pylist() == ["YB000002", "YB000009"]
    assert lake.column("version").to_pylist() == [2, 1]

    conflict = med_rows(2, start=20)
    conflict[1][0] = conflict[0][0]
    [c] = ingest(engine, tmp_path, write_csv(tmp_path / "c" / "medical_202512.csv", MED_EN, conflict))
    assert (c.accepted, c.quarantined) == (1, 1)
    assert c.errors[0]["line"] == 3 and "(line 2)" in c.errors[0]["reason"]


def test_crash_before_commit_leaves_nothing_and_rerun_loads(engine: Engine, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "medical_202510.csv", MED_EN, med_rows(3))

    def boom(*_a, **_k) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, "_record", boom)
    with pytest.raises(RuntimeError):
        ingest(engine, tmp_path, path)
    assert count(engine, store.feed_loads) == 0 and records(engine) == 0
    monkeypatch.undo()
    # what a kill -9 leaves: a renamed file never registered, a half-written temp file
    month = tmp_path / "lake" / "medical" / "month=2025-10"
    month.mkdir(parents=True, exist_ok=True)
    orphan = month / "load-0123456789abcdef.parquet"
    pq.write_table(pa.table({"record_id": ["YB000001"], "version": [1]}), orphan)
    (month / ".load-fedcba9876543210.parquet.999.tmp").write_bytes(b"PAR1")
    assert service.lake_files(engine, "medical") == []  # unregistered: invisible to readers
    [r] = ingest(engine, tmp_path, path)
    assert (r.status, r.accepted, r.corrected, r.duplicate) == ("loaded", 3, 0, 0)
    assert sorted(p.name for p in month.iterdir()) == [service.lake_files(engine, "medical")[0].name]


def test_concurrent_loads_of_one_feed_do_not_both_accept_a_record(engine: Engine, tmp_path: Path) -> None:
    import threading

    rows = med_rows(50)
    a = write_csv(tmp_path / "a" / "medical_202510.csv", MED_EN, rows)
    b = write_csv(tmp_path / "b" / "medical_202511.csv", MED_EN, rows[::-1])  # other bytes, same records
    out: list[service.LoadReport] = []
    threads = [threading.Thread(target=lambda p=p: out.extend(ingest(engine, tmp_path, p))) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((r.accepted, r.duplicate) for r in out) == [(0, 50), (50, 0)]
    assert records(engine) == 50


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(feeds_app, name="feeds")

    @root.callback()
    def _main() -> None:
        pass

    return root


def test_synthetic_province_feeds_ingest_with_nothing_rejected(settings_env: Path, tmp_path: Path) -> None:
    from safetynet.synth.service import generate

    generate(persons=2000, months=2, seed=7, out=tmp_path / "synth")
    result = CliRunner().invoke(_cli(), ["feeds", "ingest", str(tmp_path / "synth" / "feeds"), "--json"])
    assert result.exit_code == 0, result.output
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(reports) == 32
    assert all(list(r) == SPEC_KEYS for r in reports)
    assert {r["status"] for r in reports} <= {"loaded", "unchanged"}
    assert {r["feed"] for r in reports} == set(FEED_BY_NAME)
    quarantined = {r["feed"] for r in reports if r["quarantined"]}
    assert quarantined <= {"medical", "hotline"}
    assert sum(r["duplicate"] for r in reports) > 0  # snapshots re-deliver their records
    assert (settings_env / "lake" / "social_insurance").is_dir()
    again = CliRunner().invoke(_cli(), ["feeds", "ingest", str(tmp_path / "synth" / "feeds"), "--json"])
    assert again.exit_code == 0
    assert {json.loads(x)["status"] for x in again.stdout.splitlines() if x.strip()} == {"unchanged"}


def test_cli_exit_codes_and_table(settings_env: Path, tmp_path: Path) -> None:
    ok = write_csv(tmp_path / "medical_202510.csv", MED_EN, med_rows(2))
    bad = write_csv(tmp_path / "x" / "hotline_202510.csv", ["record_id", "name"], [["RX1", "张三"]])
    runner = CliRunner()
    r = runner.invoke(_cli(), ["feeds", "ingest", str(ok)])
    assert r.exit_code == 0 and "Feed loads" in r.stdout
    r = runner.invoke(_cli(), ["feeds", "ingest", str(ok), str(bad), "--json"])
    assert r.exit_code == 1
    out = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert [o["status"] for o in out] == ["unchanged", "rejected"]
    assert all(list(o) == SPEC_KEYS for o in out)
    assert {e["column"] for e in out[1]["errors"]} >= {"id_number", "received_at", "category"}
    assert all(set(e) == {"line", "column", "reason"} for e in out[1]["errors"])
    assert runner.invoke(_cli(), ["feeds", "ingest", str(tmp_path / "nope.csv")]).exit_code == 2
    misnamed = write_csv(tmp_path / "y" / "medicine_202510.csv", MED_EN, med_rows(1))
    assert runner.invoke(_cli(), ["feeds", "ingest", str(misnamed), "--json"]).exit_code == 2


# --- files read in several batches (staging.Tuning.batch_rows) ----------------------------

def _many_med_rows(n: int) -> list[list[str]]:
    """n valid medical rows whose ids are not in record order (so the lake's sort shows)."""
    return [[f"YB{i:06d}", make_id(f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", i % 997), "王桂兰", "",
             "370402001001", "2025-10-01", "inpatient", "12.5", "10", "2.5", "白内障"] for i in range(n)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_read_in_batches_keeps_lines_duplicates_and_conflicts(engine: Engine, tmp_path: Path,
                                                                  fmt: str) -> None:
    n = 30_000  # ~3 MB of CSV: three blocks of 1 MiB at 10k rows a batch; Parquet: three batches
    rows = _many_med_rows(n)
    rows[25_000] = [*rows[10][:7], "12.5", *rows[10][8:]]  # identical repeat of line 12, later batch
    rows[26_000] = [*rows[20][:7], "99", *rows[20][8:]]  # same record_id as line 22, other content
    rows[27_000][5] = "2025-02-30"  # an impossible date in the last batch
    writer = write_csv if fmt == "csv" else write_parquet
    path = writer(tmp_path / "in" / f"medical_202510.{fmt}", MED_EN, rows)
    tuning = service.staging.Tuning(batch_rows=10_000, row_group_rows=4_096)
    [r] = service.ingest(engine, paths=[path], lake_dir=tmp_path / "lake", actor="test", tuning=tuning)
    assert (r.status, r.rows, r.accepted, r.duplicate, r.quarantined) == ("loaded", n, n - 3, 1, 2)
    assert [(e["line"], e["column"]) for e in r.errors] == [(26_002, "record_id"), (27_002, "settled_on")]
    assert r.errors[0]["reason"].endswith("(line 22)") and "not a date" in r.errors[1]["reason"]
    q = service.quarantined_rows(engine, load_id=r.load_id)
    assert [(x["line"], x["row"]["record_id"], x["row"]["total_cost"]) for x in q] == [
        (26_002, "YB000020", "99"), (27_002, "YB027000", "12.5")]
    assert q[0]["reason"] == ("record_id: record_id repeats an earlier line of this file with "
                              "different content")
    # every accepted row's line still points at its own line of the file
    [lake] = service.lake_files(engine, "medical")
    t = pq.read_table(lake, columns=["record_id", "line", "id_number"])
    by_line = dict(zip(t.column("line").to_pylist(), t.column("record_id").to_pylist(), strict=True))
    assert len(by_line) == n - 3 and all(by_line[i + 2] == rows[i][0] for i in (0, 9_999, 10_000, 29_999))


def test_lake_file_sorted_by_id_number_in_row_groups(engine: Engine, tmp_path: Path) -> None:
    rows = _many_med_rows(5_000)
    path = write_parquet(tmp_path / "in" / "medical_202510.parquet", MED_EN, rows)
    tuning = service.staging.Tuning(batch_rows=1_000, row_group_rows=1_024)
    [r] = service.ingest(engine, paths=[path], lake_dir=tmp_path / "lake", actor="test", tuning=tuning)
    assert r.accepted == 5_000
    [lake] = service.lake_files(engine, "medical")
    meta = pq.ParquetFile(lake).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1_024] * 4 + [904]
    t = pq.read_table(lake, columns=["id_number", "record_id"])
    keys = list(zip(t.column("id_number").to_pylist(), t.column("record_id").to_pylist(), strict=True))
    assert keys == sorted(keys) and keys != sorted(keys, key=lambda k: k[1])
    # the row groups' id ranges do not overlap: a lookup of one person reads one of them
    ix = meta.schema.to_arrow_schema().get_field_index("id_number")
    ranges = [(meta.row_group(i).column(ix).statistics.min, meta.row_group(i).column(ix).statistics.max)
              for i in range(meta.num_row_groups)]
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False))


def test_ragged_row_in_a_later_batch_rejects_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    rows = _many_med_rows(30_000)
    path = write_csv(tmp_path / "medical_202510.csv", MED_EN, rows)
    with path.open("a", encoding="utf-8") as f:
        f.write("YB999999,1,2\n")
    tuning = service.staging.Tuning(batch_rows=10_000)
    [r] = service.ingest(engine, paths=[path], lake_dir=tmp_path / "lake", actor="test", tuning=tuning)
    assert r.status == "rejected" and r.errors[0]["line"] == 30_002
    assert "number of fields" in r.errors[0]["reason"]
    assert records(engine) == 0 and service.lake_files(engine, "medical") == []


def test_staging_of_a_killed_load_is_removed_by_the_next(engine: Engine, tmp_path: Path) -> None:
    staging_root = tmp_path / "lake" / ".staging"
    left = staging_root / "4194305-killed"  # above Linux's largest pid: no such process
    left.mkdir(parents=True)
    (left / "staged.parquet").write_bytes(b"PAR1")
    [r] = ingest(engine, tmp_path, write_csv(tmp_path / "medical_202510.csv", MED_EN, med_rows(2)))
    assert r.status == "loaded"
    assert list(staging_root.iterdir()) == []  # the stale one swept, this load's own removed
