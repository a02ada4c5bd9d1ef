"""What every list's Excel export shares: the row cap, the answer and its audit row.

Each list route (households, warnings, tasks, audit log) has an `export.xlsx` twin that takes the
same filters and scoping, builds its rows as the list shows them (masked, labels not codes) and hands
them here. The workbook itself comes from `safetynet.spreadsheet` (strings as text, money as numbers
in yuan, dates as date cells, timestamps in Beijing time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote

from fastapi.responses import Response

from safetynet.audit.service import record as audit_record
from safetynet.auth import errors
from safetynet.spreadsheet import XLSX_MEDIA_TYPE, Column, Sheet, beijing, workbook_bytes

#: the most rows one export holds: a county's year of tasks fits; a province's register does not
#: (a sheet that large is unusable in a spreadsheet anyway, and builds in memory)
MAX_ROWS = 50_000


def too_many(total: int, cap: int | None = None) -> errors.ApiError:
    cap = MAX_ROWS if cap is None else cap
    return errors.invalid(
        "filters", f"the filters select {total:,} rows; an export holds at most {cap:,}: narrow them "
        "(region, month, status …) and export again",
        f"筛选结果共 {total} 条，超过单次导出上限 {cap} 条，请缩小范围（区划、月份、状态等）后再导出")


def check_size(total: int, cap: int | None = None) -> None:
    cap = MAX_ROWS if cap is None else cap
    if total > cap:
        raise too_many(total, cap)


def filters_text(filters: dict[str, object], labels: dict[str, str]) -> str:
    """The filters used, as `label：value` pairs, for the sheet's preamble ("全部" when none)."""
    used = [f"{labels.get(k, k)}：{v}" for k, v in filters.items() if v not in (None, "", False)]
    return "；".join(used) or "全部"


def workbook(title: str, columns: Sequence[Column], rows: list[Sequence], *, user, filters: str,  # noqa: ANN001
             now: dt.datetime) -> bytes:
    preamble = [("名称", title), ("导出人", user.username),
                ("导出时间", beijing(now).strftime("%Y-%m-%d %H:%M")), ("筛选条件", filters),
                ("条数", len(rows))]
    return workbook_bytes([Sheet(title, columns, rows, preamble=preamble)])


def answer(engine, data: bytes, *, user, object_type: str, fields: Sequence[str], rows: int,  # noqa: ANN001
           filename: str, filters: str) -> Response:
    """The workbook as a download, once its audit row (action `export`, the fields, the row count and
    the filters) has committed. `Cache-Control: no-store` is the app's, on every API answer."""
    audit_record(engine, actor=user, action="export", object_type=object_type, fields=list(fields),
                 purpose=f"export: {filters}", detail=f"{rows} rows")
    name = quote(filename)
    return Response(data, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
