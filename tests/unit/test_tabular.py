import pyarrow as pa
import pytest

from safetynet import cells
from safetynet.errors import InputFileError
from safetynet.tabular import Column, detect_encoding, read_table
from tests.factories import write_csv, write_parquet, write_xlsx

COLS = [Column("record_id", "记录编号", required=True), Column("name", "姓名", required=True),
        Column("region", "行政区划代码")]
ROWS = [["R1", "张三", "370402001001"], ["R2", "李四", ""]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_and_chinese_headers(tmp_path, encoding):
    rows = [[*r, "备注内容"] for r in ROWS]
    path = write_csv(tmp_path / "x.csv", ["记录编号", "姓名", "行政区划代码", "备注"], rows, encoding)
    tf = read_table(path, COLS)
    assert tf.table.column("name").to_pylist() == ["张三", "李四"]
    # leading zeros and codes stay strings; empty cells are null
    assert tf.table.column("region").to_pylist() == ["370402001001", None]
    assert tf.extra_columns == ("备注",)
    assert tf.encoding == ("gb18030" if encoding in ("gbk", "gb18030") else encoding)


def test_gbk_detected_even_when_first_lines_are_ascii(tmp_path):
    rows = [[f"R{i}", "abc", ""] for i in range(5000)] + [["R9", "王五", ""]]
    path = write_csv(tmp_path / "x.csv", ["record_id", "name", "region"], rows, "gbk")
    assert detect_encoding(path) == "gb18030"
    assert read_table(path, COLS).table.column("name").to_pylist()[-1] == "王五"


def test_xlsx_and_parquet(tmp_path):
    x = read_table(write_xlsx(tmp_path / "x.xlsx", ["record_id", "name", "region"], ROWS), COLS)
    p = read_table(write_parquet(tmp_path / "x.parquet", ["record_id", "姓名", "region"], ROWS), COLS)
    assert x.table.column("name").to_pylist() == p.table.column("name").to_pylist() == ["张三", "李四"]


def test_missing_required_column_names_file_line_column(tmp_path):
    path = write_csv(tmp_path / "medical_202510.csv", ["record_id", "region"], [["R1", ""]])
    with pytest.raises(InputFileError) as e:
        read_table(path, COLS)
    err = e.value.errors[0]
    assert (err.file, err.line, err.column) == ("medical_202510.csv", 1, "name")
    assert "姓名" in err.reason


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(InputFileError, match="unsupported file type"):
        read_table(tmp_path / "x.txt", COLS)
    with pytest.raises(InputFileError, match="file not found"):
        read_table(tmp_path / "nope.csv", COLS)


def test_date_forms_and_impossible_dates():
    parsed = cells.parse_dates(pa.array(["2025-01-05", "2025/1/5", "20250105", "2025-02-30", None, "5.1"]))
    assert [str(d) if d else None for d in parsed.values.to_pylist()] == [
        "2025-01-05", "2025-01-05", "2025-01-05", None, None, None]
    assert parsed.invalid.tolist() == [False, False, False, True, False, True]


def test_money_is_parsed_to_integer_fen_without_floats():
    parsed = cells.parse_money_fen(pa.array(["941", "1010.5", "1,010.55", "0.07", "-3", "1.234", "x"]))
    assert parsed.values.to_pylist() == [94100, 101050, 101055, 7, None, None, None]
    assert parsed.invalid.tolist() == [False, False, False, False, True, True, True]
    assert cells.parse_money_fen(pa.array(["-3.5"]), allow_negative=True).values.to_pylist() == [-350]


def test_months_and_enums():
    assert cells.parse_months(pa.array(["2025-10", "202510", "2025-13"])).values.to_pylist() == [
        "2025-10", "2025-10", None]
    labels = {"urban": "城镇", "rural": "农村"}
    parsed = cells.parse_enum(pa.array(["urban", "农村", "URBAN", "town"]), labels)
    assert parsed.values.to_pylist() == ["urban", "rural", "urban", None]
    assert parsed.invalid.tolist() == [False, False, False, True]


def test_ragged_row_is_located(tmp_path):
    path = write_csv(tmp_path / "x.csv", ["record_id", "name", "region"],
                     [["R1", "张三", ""], ["R2", "李四"], ["R3", "王五", ""]])
    with pytest.raises(InputFileError) as e:
        read_table(path, COLS)
    assert e.value.errors[0].line == 3
    assert "number of fields" in e.value.errors[0].reason


@pytest.mark.parametrize(("suffix", "encoding"), [("csv", "utf-8-sig"), ("csv", "gbk"), ("parquet", None),
                                                  ("xlsx", None)])
def test_open_batches_gives_read_table_in_pieces(tmp_path, suffix, encoding):
    from safetynet.tabular import open_batches

    n = 3_000 if suffix == "xlsx" else 100_000  # CSV: ~2.5 MB, blocks of at least 1 MiB
    rows = [[f"R{i}", "张三" if i % 7 else " 李四 ", "" if i % 5 else "370402001001"] for i in range(n)]
    header = ["记录编号", "姓名", "region"]
    if suffix == "csv":
        path = write_csv(tmp_path / "x.csv", header, rows, encoding)
    elif suffix == "parquet":
        path = write_parquet(tmp_path / "x.parquet", header, rows)
    else:
        path = write_xlsx(tmp_path / "x.xlsx", header, rows)
    whole = read_table(path, COLS)
    opened = open_batches(path, COLS, batch_rows=1_000 if suffix == "xlsx" else 40_000)
    batches = list(opened)
    assert len(batches) >= 2 and sum(b.num_rows for b in batches) == n
    assert pa.concat_tables(batches).equals(whole.table)
    assert (opened.encoding, opened.extra_columns) == (whole.encoding, whole.extra_columns)


def test_open_batches_raises_for_a_ragged_row_in_a_later_block(tmp_path):
    from safetynet.tabular import open_batches

    rows = [[f"R{i}", "张三", "370402001001"] for i in range(80_000)] + [["R9", "王五"]]  # ~2 MB
    path = write_csv(tmp_path / "x.csv", ["record_id", "name", "region"], rows)
    batches = open_batches(path, COLS, batch_rows=20_000)
    with pytest.raises(InputFileError) as e:
        list(batches)
    assert e.value.errors[0].line == 80_002
