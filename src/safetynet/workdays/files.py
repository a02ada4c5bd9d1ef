"""Reading a year's schedule from a file an administrator typed from the published notice.

One row per day: `date` (YYYY-MM-DD), `kind` (holiday: a weekday off; workday: a weekend day
worked, 调休) and `name` (the festival, e.g. 春节). CSV or Excel with those headers (or 日期, 类型,
名称; kind also 放假 / 上班), or YAML: a list of mappings with those keys, or a mapping with such a
list under `days`. Every fault is reported with its file, line and column; nothing is stored from a
file with any fault."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from safetynet.errors import InputFileError, RowError
from safetynet.tabular import Column, read_table
from safetynet.workdays.model import DayKind, day_problems

COLUMNS = [Column("date", "日期", required=True), Column("kind", "类型", required=True),
           Column("name", "名称", required=True)]
KINDS = {"holiday": DayKind.holiday, "放假": DayKind.holiday, "休": DayKind.holiday,
         "workday": DayKind.workday, "上班": DayKind.workday, "班": DayKind.workday}
FORMS = ".csv, .xlsx, .yaml or .yml"


def read_year_file(path: Path, year: int) -> tuple[list[tuple[dt.date, str]], list[tuple[dt.date, str]]]:
    """(holidays, workdays) of `year` from the file, or InputFileError naming every faulty cell."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        rows = _yaml_rows(path)
    elif path.suffix.lower() in (".csv", ".xlsx"):
        rows = _table_rows(path)
    else:
        raise InputFileError([RowError(path.name, None, None,
                                       f"unsupported file type {path.suffix or '(none)'}; expected {FORMS}")])
    errors: list[RowError] = []
    holidays: list[tuple[dt.date, str]] = []
    workdays: list[tuple[dt.date, str]] = []
    seen: dict[dt.date, int | None] = {}
    for line, cells in rows:
        found = _row(path.name, line, cells, year, seen)
        if isinstance(found, list):
            errors.extend(found)
        else:
            kind, day, name = found
            (holidays if kind == DayKind.holiday else workdays).append((day, name))
    if not rows:
        errors.append(RowError(path.name, None, None, "no days in the file; one row per day: date, kind "
                               "(holiday|workday), name"))
    if errors:
        raise InputFileError(errors)
    return holidays, workdays


def _row(file: str, line: int | None, cells: dict[str, str | None], year: int,
         seen: dict[dt.date, int | None]) -> tuple[DayKind, dt.date, str] | list[RowError]:
    errors = []
    raw_kind = (cells.get("kind") or "").strip()
    kind = KINDS.get(raw_kind.lower())
    if kind is None:
        errors.append(RowError(file, line, "kind", f"{raw_kind!r} is not a kind; use holiday (a weekday off, "
                               "放假) or workday (a weekend day worked, 上班)"))
    raw_date = (cells.get("date") or "").strip()
    try:
        day = dt.date.fromisoformat(raw_date)
    except ValueError:
        errors.append(RowError(file, line, "date", f"{raw_date!r} is not a date; use YYYY-MM-DD, e.g. "
                               f"{year}-10-01"))
        day = None
    name = (cells.get("name") or "").strip()
    if day is not None and kind is not None:
        for p in day_problems(year, kind, day, name, "row"):
            errors.append(RowError(file, line, p.field.removeprefix("row."), p.message))
        if day in seen:
            also = f" (also line {seen[day]})" if seen[day] else ""
            errors.append(RowError(file, line, "date", f"{day.isoformat()} is listed twice{also}"))
        seen.setdefault(day, line)
    elif not name:
        errors.append(RowError(file, line, "name", "give the holiday's name as in the notice, e.g. 春节"))
    if errors:
        return errors
    assert kind is not None and day is not None
    return kind, day, name


def _table_rows(path: Path) -> list[tuple[int | None, dict[str, str | None]]]:
    table = read_table(path, COLUMNS)  # rejects a header without date, kind, name
    rows = table.table.select([c.name for c in COLUMNS]).to_pylist()
    return [(table.line_of(i), row) for i, row in enumerate(rows)]


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _yaml_rows(path: Path) -> list[tuple[int | None, dict[str, str | None]]]:
    """Rows of a YAML file, each with the line it starts on. Read as the document's nodes, so every
    value stays the text as typed (a bare 2027-10-01 is not turned into a date object first)."""
    if not path.is_file():
        raise InputFileError([RowError(str(path), None, None, "file not found")])
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise InputFileError([RowError(path.name, None if line is None else line + 1, None,
                                       f"not readable as YAML (UTF-8): {e}")]) from None
    if isinstance(root, yaml.MappingNode):
        root = next((v for k, v in root.value if _scalar(k) == "days"), None)
    if not isinstance(root, yaml.SequenceNode):
        raise InputFileError([RowError(path.name, None, None, "expected a list of days (date, kind, name), "
                                       "at the top or under `days:`")])
    rows: list[tuple[int | None, dict[str, str | None]]] = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            rows.append((line, {}))
            continue
        rows.append((line, {_scalar(k) or "": _scalar(v) for k, v in item.value}))
    return rows
