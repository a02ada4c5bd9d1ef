"""Small builders of realistic test input (valid identity numbers, register files)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from stdnum.cn import ric


def make_id(birth: str, seq: int = 1, prefix: str = "370402", sex: str | None = None) -> str:
    """A valid 18-digit number. `seq` is the 3-digit order code; its parity sets the sex
    unless `sex` is given."""
    if sex is not None:
        seq = seq * 2 + (1 if sex == "M" else 0)
    body = f"{prefix}{birth.replace('-', '')}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


VILLAGE = "370402001001"  # a generated demo village under Zaozhuang Shizhong (370402)

HOUSEHOLDS_EN = ["household_id", "region", "registration", "address", "grid", "phone"]
PERSONS_EN = ["household_id", "id_number", "name", "sex", "birth_date", "relation", "tier",
              "tier_since", "support_form", "care_level", "monthly_benefit"]
HOUSEHOLDS_ZH = ["家庭编号", "行政区划代码", "户籍性质", "地址", "网格", "联系电话"]
PERSONS_ZH = ["家庭编号", "身份证号", "姓名", "性别", "出生日期", "与户主关系", "救助类别",
              "认定日期", "供养方式", "护理等级", "月救助金额"]


def sample_register() -> tuple[list[list[str]], list[list[str]]]:
    """Three households: a dibao couple with a child, an extremely poor elder, an edge family
    with a single-person dibao member."""
    households = [
        ["H001", VILLAGE, "urban", "光明路1号", "1", "0632-1234567"],
        ["H002", VILLAGE, "rural", "西村2号", "2", ""],
        ["H003", "370402001201", "rural", "", "", ""],
    ]
    persons = [
        ["H001", make_id("1975-04-02", 11, sex="M"), "张建国", "M", "1975-04-02", "head", "dibao",
         "2024-03-01", "", "", "320.00"],
        ["H001", make_id("1977-08-15", 12, sex="F"), "李秀英", "F", "1977-08-15", "spouse", "dibao",
         "2024-03-01", "", "", ""],
        ["H001", make_id("2010-01-20", 13, sex="M"), "张伟", "M", "", "child", "dibao", "2024-03-01",
         "", "", ""],
        ["H002", make_id("1940-05-06", 21, sex="F"), "王桂兰", "F", "1940-05-06", "head",
         "extremely_poor", "2023-01-01", "dispersed", "partial", "1355.00"],
        ["H003", make_id("1968-02-02", 31, sex="M"), "赵明", "M", "1968-02-02", "head", "dibao_edge",
         "2025-01-01", "", "", ""],
        ["H003", make_id("1995-09-09", 32, sex="F"), "赵小红", "F", "1995-09-09", "child", "dibao",
         "2025-01-01", "", "", "941.00"],
    ]
    return households, persons


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名册")
    text = wb.add_format({"num_format": "@"})
    for c, h in enumerate(header):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            ws.write_string(r, c, v, text)
    wb.close()
    return path


def write_parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = {h: pa.array([r[i] or None for r in rows], pa.string()) for i, h in enumerate(header)}
    pq.write_table(pa.table(cols), path)
    return path


def write_register(directory: Path, households, persons, *, fmt: str = "csv",  # noqa: ANN001
                   chinese: bool = False, encoding: str = "utf-8") -> Path:
    h_header = HOUSEHOLDS_ZH if chinese else HOUSEHOLDS_EN
    p_header = PERSONS_ZH if chinese else PERSONS_EN
    if fmt == "csv":
        write_csv(directory / "households.csv", h_header, households, encoding)
        write_csv(directory / "persons.csv", p_header, persons, encoding)
    elif fmt == "xlsx":
        write_xlsx(directory / "households.xlsx", h_header, households)
        write_xlsx(directory / "persons.xlsx", p_header, persons)
    elif fmt == "parquet":
        write_parquet(directory / "households.parquet", h_header, households)
        write_parquet(directory / "persons.parquet", p_header, persons)
    return directory


TODAY = dt.date(2025, 7, 1)
