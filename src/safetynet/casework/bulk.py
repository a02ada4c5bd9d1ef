"""A department's answers to its pushes in bulk, from a spreadsheet (一次上传批量反馈).

A liaison exports their open pushes (the tasks export: it carries the task ids and, for a liaison,
empty answer columns), fills in one row per task answered and uploads the file. Every row is checked
first — each wrong cell is named by its row, column and what a valid value looks like — and nothing is
stored unless every row is right. Then each task is accepted and started where it still waits, and
given its feedback through `feedback.give`, all in one transaction: a task that cannot take its answer
(another liaison answered it meanwhile) rolls back the whole upload, again naming the row."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, Engine

from safetynet.auth import errors
from safetynet.auth.model import CurrentUser
from safetynet.casework import feedback, notify, service
from safetynet.casework.model import ASSISTANCE_KINDS, OUTCOME_LABELS, DepartmentOutcome, SourceKind, Status
from safetynet.errors import NotFoundError

MAX_ROWS = 2_000
ID, OUTCOME, KIND, DATE, AMOUNT, REASON, NOTES = (
    "任务编号", "反馈结果", "帮扶类别", "帮扶日期", "帮扶金额（元）", "不予帮扶理由", "反馈说明")
#: the answer columns a liaison's tasks export adds (empty) after the task's own
ANSWER_COLUMNS = (OUTCOME, KIND, DATE, AMOUNT, REASON, NOTES)
_OUTCOMES = {o.value: o.value for o in DepartmentOutcome} | {
    OUTCOME_LABELS[o]["zh"]: o.value for o in DepartmentOutcome}
_KINDS = {k: k for k, v in ASSISTANCE_KINDS.items() if SourceKind.department.value in v["by"]} | {
    v["zh"]: k for k, v in ASSISTANCE_KINDS.items() if SourceKind.department.value in v["by"]}
#: states from which the liaison first accepts (and starts) the task before answering it
_TO_ACCEPT = {Status.pushed.value, Status.escalated.value, Status.returned.value}


@dataclass(frozen=True)
class Answer:
    row: int  # the sheet's row number, as a spreadsheet shows it
    task_id: int
    outcome: str
    assistance: feedback.Assistance | None
    refusal_reason: str | None
    notes: str | None


def _bad(row: int | None, column: str | None, message: str, message_zh: str) -> errors.ApiError:
    where_en = f"row {row}, column {column}: " if row else ""
    where_zh = f"第 {row} 行“{column}”列：" if row else ""
    return errors.invalid(column, where_en + message, where_zh + message_zh)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(
            skip_empty_area=False)
    except Exception:  # calamine raises several unrelated types for a file that is not a workbook
        raise _bad(None, None, "the file is not a readable .xlsx workbook: upload the tasks export "
                   "(导出) with the answer columns filled in", "文件不是可读取的 .xlsx 表格，请上传"
                   "“导出”得到的任务表并填写反馈列") from None


def _header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """(index of the header row, column title → index): the first row among the first 20 naming 任务编号
    (the export writes a few lines of title and filters above the table)."""
    for i, row in enumerate(rows[:20]):
        titles = {_text(v): j for j, v in enumerate(row) if _text(v)}
        if ID in titles:
            if OUTCOME not in titles:
                break
            return i, titles
    raise _bad(None, OUTCOME, f"no header row with the columns {ID} and {OUTCOME}: upload the tasks "
               "export (导出) of your open pushes with the answer columns filled in",
               f"未找到含“{ID}”和“{OUTCOME}”列的表头，请上传“导出”得到的待办任务表并填写反馈列")


def _date(value: object, row: int, today: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(_text(value).replace("/", "-"))
        except ValueError:
            raise _bad(row, DATE, f"{_text(value)!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-03-15)"
                       " or as a date cell", f"“{_text(value)}”不是日期，请填写为 YYYY-MM-DD（如 2026-03-15）"
                       "或日期格式单元格") from None
    if day > today:
        raise _bad(row, DATE, f"{day} lies in the future (today is {today})", f"{day} 晚于今天（{today}）")
    return day


def _amount(value: object, row: int) -> int | None:
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        yuan = Decimal(text)
    except InvalidOperation:
        yuan = None
    if (yuan is None or not yuan.is_finite() or yuan < 0 or yuan > 10**9
            or yuan != yuan.quantize(Decimal("0.01"))):
        raise _bad(row, AMOUNT, f"{text!r} is not an amount in yuan: a number ≥ 0 with at most two decimals "
                   "(e.g. 1234.50)", f"“{text}”不是有效金额：应为不小于 0、最多两位小数的元数（如 1234.50）")
    return int(yuan * 100)


def _answer(row: list, n: int, cols: dict[str, int], today: dt.date) -> Answer | None:
    def cell(title: str) -> object:
        j = cols.get(title)
        return row[j] if j is not None and j < len(row) else None

    raw_id, raw_outcome = _text(cell(ID)), _text(cell(OUTCOME))
    if not raw_outcome:
        return None  # a task not answered in this upload
    if not raw_id.isdigit():
        raise _bad(n, ID, f"{raw_id!r} is not a task id: keep the column as the export wrote it",
                   f"“{raw_id}”不是任务编号，请保留导出时的任务编号")
    outcome = _OUTCOMES.get(raw_outcome)
    if outcome is None:
        raise _bad(n, OUTCOME, f"{raw_outcome!r}: write 已给予帮扶 (assisted) or 不予帮扶 (refused)",
                   f"“{raw_outcome}”无效，请填写“已给予帮扶”或“不予帮扶”")
    reason, notes = _text(cell(REASON)) or None, _text(cell(NOTES)) or None
    assistance = None
    if outcome == DepartmentOutcome.refused.value:
        if not reason:
            raise _bad(n, REASON, "a refusal needs its reason", "不予帮扶须填写理由")
    else:
        raw_kind = _text(cell(KIND))
        kind = _KINDS.get(raw_kind)
        if kind is None:
            valid = "、".join(v["zh"] for k, v in ASSISTANCE_KINDS.items() if k in _KINDS.values())
            raise _bad(n, KIND, f"{raw_kind!r} is not a department's kind of assistance; one of: "
                       f"{', '.join(sorted(set(_KINDS.values())))} (or its Chinese name)",
                       f"“{raw_kind}”不是部门帮扶类别，应为：{valid}")
        if cell(DATE) in (None, ""):
            raise _bad(n, DATE, "assistance given needs its date (YYYY-MM-DD)", "已给予帮扶须填写帮扶日期")
        assistance = feedback.Assistance(kind=kind, given_on=_date(cell(DATE), n, today),
                                         amount_fen=_amount(cell(AMOUNT), n), notes=notes)
    return Answer(n, int(raw_id), outcome, assistance, reason, notes)


def parse(data: bytes, *, today: dt.date) -> list[Answer]:
    """Every answered row of the upload, checked; the first wrong cell raises, naming its row."""
    rows = _rows(data)
    head, cols = _header(rows)
    answers: list[Answer] = []
    seen: dict[int, int] = {}
    for i, row in enumerate(rows[head + 1:], start=head + 2):
        answer = _answer(row, i, cols, today)
        if answer is None:
            continue
        if answer.task_id in seen:
            raise _bad(i, ID, f"task {answer.task_id} is answered twice (also in row {seen[answer.task_id]})",
                       f"任务 {answer.task_id} 重复（第 {seen[answer.task_id]} 行已填写）")
        seen[answer.task_id] = i
        answers.append(answer)
    if not answers:
        raise _bad(None, OUTCOME, f"no row has a {OUTCOME}: fill it in for each task you answer",
                   f"没有填写“{OUTCOME}”的行，请为要反馈的任务填写反馈结果")
    if len(answers) > MAX_ROWS:
        raise _bad(None, ID, f"{len(answers)} answers; at most {MAX_ROWS} in one upload",
                   f"共 {len(answers)} 条反馈，单次上传最多 {MAX_ROWS} 条")
    return answers


class _Within:
    """Hands the upload's one transaction to services that open their own (`engine.begin()`): each
    task's steps join it, and an error in any row rolls back every row."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self._conn


def apply(engine: Engine, answers: list[Answer], *, user: CurrentUser, now: dt.datetime) -> list[dict]:
    """Accept and start each task where it still waits, then give its feedback; all or nothing."""
    done = []
    with notify.sent_after_commit(), engine.begin() as conn:
        within: Engine = _Within(conn)  # type: ignore[assignment]
        for a in answers:
            try:
                status = service.load_task(conn, a.task_id).status
                if status in _TO_ACCEPT:
                    service.act(within, task_id=a.task_id, action="accept", user=user, now=now)
                    status = Status.accepted.value
                if status == Status.accepted.value:
                    service.act(within, task_id=a.task_id, action="start", user=user, now=now)
                done.append(feedback.give(within, task_id=a.task_id, user=user, outcome=a.outcome,
                                          notes=a.notes, refusal_reason=a.refusal_reason,
                                          assistance=a.assistance, now=now))
            except NotFoundError:
                raise _bad(a.row, ID, f"task {a.task_id} is not one of your tasks",
                           f"任务 {a.task_id} 不存在或不在您的辖区") from None
            except errors.ApiError as e:
                raise errors.ApiError(e.status if e.status != 404 else 400, e.code,
                                      f"row {a.row} (task {a.task_id}): {e.message}",
                                      f"第 {a.row} 行（任务 {a.task_id}）：{e.message_zh}", e.field) from None
    return done
