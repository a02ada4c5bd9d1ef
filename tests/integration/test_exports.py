"""Every list as Excel (issue 16): the household search, the warnings, the tasks and the audit log, with
the list's filters, scope and masking, labels not codes, numbers as numbers and times as Beijing-time
date cells; each export audited; the cap; a wrong id check digit named; and a department's pushes
answered in bulk from the tasks export (one bad row stores nothing). SQLite and PostgreSQL."""

# ruff: noqa: F811  (the casework tests' `world` fixture, imported, is each test's argument)
from __future__ import annotations

import datetime as dt
import io
import re

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from safetynet import exports
from safetynet.audit.store import audit_log
from safetynet.casework import service
from safetynet.casework.store import assistance_records, task_feedback, tasks
from safetynet.spreadsheet import Column, Sheet, workbook_bytes
from tests.factories import make_id
from tests.integration.test_casework import DISPATCH, _warn, world  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(r) -> tuple[list, list[list]]:  # noqa: ANN001
    """(header, rows) of an export: the table below the preamble lines."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX and r.headers["cache-control"] == "no-store"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    head = next(i for i, row in enumerate(rows) if row[0] and i > 0 and rows[i - 1] == [""] * len(row))
    return rows[head], [row for row in rows[head + 1 :] if any(c not in ("", None) for c in row)]


def _exports(engine, actor: str) -> list:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(
            select(audit_log)
            .where(audit_log.c.actor == actor, audit_log.c.action == "export")
            .order_by(audit_log.c.id)
        ).all()


def test_household_export_is_the_search_masked_labelled_and_within_region(client_as, world):
    _, u, _ = world
    r = u["caseworker"].get("/api/v1/households/export.xlsx")
    header, rows = _sheet(r)
    assert header == ["户编号", "户主", "户主身份证号", "所在区划", "家庭人数", "救助类别", "户籍性质"]
    by_no = {row[0]: row for row in rows}
    assert set(by_no) == {"H001", "H002", "H003"}  # H900 lies in another township
    h1 = by_no["H001"]
    assert h1[1] == "张**" and re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", h1[2])
    assert h1[4] == 3.0 and h1[5] == "低保" and h1[6] == "城镇" and not re.fullmatch(r"\d+", h1[3])
    # the same filters as the list
    _, rows = _sheet(u["caseworker"].get("/api/v1/households/export.xlsx", params={"tier": "extremely_poor"}))
    assert [row[0] for row in rows] == ["H002"]
    audited = _exports(client_as.engine, "casew")
    assert [(a.object_type, a.detail) for a in audited] == [
        ("household_search", "3 rows"),
        ("household_search", "1 rows"),
    ]
    assert "head_id_number" in audited[0].fields and "救助类别：特困" in audited[1].purpose


def test_a_wrong_check_digit_is_named_not_an_empty_list(client_as, world):
    _, u, _ = world
    good = make_id("1975-04-02", 11, sex="M")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    for path in ("/api/v1/households", "/api/v1/households/export.xlsx"):
        r = u["caseworker"].get(path, params={"id_number": wrong})
        assert r.status_code == 400 and r.json()["field"] == "id_number", r.text
        assert f"应为 {good[17]}" in r.json()["message_zh"]
    assert u["caseworker"].get("/api/v1/households", params={"q": wrong}).status_code == 400
    assert u["caseworker"].get("/api/v1/households", params={"id_number": good}).json()["total"] == 1


def test_warning_export_names_rules_levels_and_regions_and_keeps_values_numbers(client_as, world):
    _, u, _ = world
    header, rows = _sheet(u["caseworker"].get("/api/v1/warnings/export.xlsx", params={"month": "2026-08"}))
    assert header[:4] == ["预警编号", "预警等级", "预警规则", "姓名"] and header[-1] == "处置状态"
    names = {row[3] for row in rows}
    assert names == {"张**", "王**", "赵*"}  # not 张老汉 of the other township
    first = rows[0]  # most severe first
    assert first[1] == "红" and first[9] == 0.6 and first[13] == "新预警"
    assert "medical_oop_large" not in {row[2] for row in rows} and "医疗自付费用过高（因病致贫风险）" in {
        row[2] for row in rows
    }
    assert all(not re.fullmatch(r"\d+", row[6]) for row in rows)  # region names, not codes
    _, red = _sheet(
        u["caseworker"].get("/api/v1/warnings/export.xlsx", params={"month": "2026-08", "level": "red"})
    )
    assert {row[1] for row in red} == {"红"} and len(red) == 2
    assert [a.object_type for a in _exports(client_as.engine, "casew")] == ["warning_list"] * 2


def test_task_export_has_beijing_deadlines_labels_and_a_cap(client_as, world, monkeypatch):
    _, u, _ = world
    client_as.app.state.clock = lambda: DISPATCH.astimezone(dt.UTC) + dt.timedelta(days=1)
    service.dispatch_month(client_as.engine, month="2026-08", now=DISPATCH)
    header, rows = _sheet(u["caseworker"].get("/api/v1/tasks/export.xlsx"))
    assert header[0] == "任务编号" and "反馈结果" not in header  # answer columns are the liaison's
    assert len(rows) == 5 and {row[1] for row in rows} == {"入户核查", "部门推送"}
    assert all(row[8] != "H900" and "*" in row[8] for row in rows)  # masked as the list shows them
    header, rows = _sheet(u["liaison"].get("/api/v1/tasks/export.xlsx", params={"mine": "true"}))
    assert header[-6:] == ["反馈结果", "帮扶类别", "帮扶日期", "帮扶金额（元）", "不予帮扶理由", "反馈说明"]
    (push,) = rows
    assert push[1:3] == ["部门推送", "已推送"] and push[6] == "医保"
    # the deadline: end of Fri 16 Oct in Beijing, as a date cell
    assert push[11] == dt.datetime(2026, 10, 16, 23, 59, 59) and push[12] == "否"
    monkeypatch.setattr(exports, "MAX_ROWS", 3)
    r = u["caseworker"].get("/api/v1/tasks/export.xlsx")
    assert r.status_code == 400 and "共 5 条" in r.json()["message_zh"] and "上限 3" in r.json()["message_zh"]


def test_audit_log_in_beijing_time_with_labels_and_names_and_its_export(client_as, world):
    people, u, _ = world
    pid = people["张建国"]["person_id"]
    assert u["caseworker"].get(f"/api/v1/persons/{pid}").status_code == 200
    u["caseworker"].get("/api/v1/households/H001")
    items = u["auditor"].get("/api/v1/audit", params={"actor": "casew"}).json()["items"]
    person = next(i for i in items if i["object_type"] == "person")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", person["at_local"])
    utc = dt.datetime.fromisoformat(person["at"])
    assert person["at_local"] == (utc + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert (
        person["action_label"],
        person["object_type_label"],
        person["object_label"],
        person["result_label"],
        person["purpose_label"],
    ) == ("查看", "人员", "张**", "成功", "查看人员详情")
    household = next(i for i in items if i["object_type"] == "household")
    assert household["object_label"] == "户 H001"
    header, rows = _sheet(u["auditor"].get("/api/v1/audit/export.xlsx", params={"actor": "casew"}))
    assert header[:6] == ["时间（北京时间）", "操作人", "操作人区划", "操作", "对象类型", "对象"]
    row = next(r for r in rows if r[4] == "人员")
    assert row[0] == dt.datetime.fromisoformat(person["at_local"]) and row[3] == "查看" and row[5] == "张**"
    assert [a.object_type for a in _exports(client_as.engine, "audit1")] == ["audit_log"]
    # out of the reader's region: the other township's caseworker's reads are not in a village's export
    assert all(r[1] == "casew" for r in rows)


def _two_pushes(client_as, world) -> list[int]:  # noqa: ANN001
    """Two medical pushes for the medical liaison (H001's of 2026-08 and H003's of 2026-09)."""
    people, _, _ = world
    engine = client_as.engine
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    who = people["赵明"]
    _warn(
        engine,
        "2026-09",
        [
            {
                "rule": "medical_oop_large",
                "id_number": who["id_number"],
                "person_id": who["person_id"],
                "household_id": who["household_id"],
                "household_no": who["household_no"],
                "region_code": who["region_code"],
                "level": "orange",
                "need": "medical",
                "side": "entry",
                "value": "0.7",
                "evidence": "[]",
            }
        ],
    )
    service.dispatch_month(engine, month="2026-09", now=DISPATCH)
    with engine.connect() as c:
        return sorted(
            c.execute(select(tasks.c.id).where(tasks.c.department == "medical_insurance")).scalars()
        )


def _upload(client, rows: list[list]):  # noqa: ANN001
    header = [
        "任务编号",
        "姓名",
        "反馈结果",
        "帮扶类别",
        "帮扶日期",
        "帮扶金额（元）",
        "不予帮扶理由",
        "反馈说明",
    ]
    data = workbook_bytes([Sheet("任务列表", [Column(h) for h in header], rows)])
    return client.post("/api/v1/tasks/feedback/bulk", files={"file": ("反馈.xlsx", data, XLSX)})


def _stored(engine) -> tuple[int, int]:  # noqa: ANN001
    with engine.connect() as c:
        return (
            len(c.execute(select(task_feedback.c.id)).all()),
            len(c.execute(select(assistance_records.c.id)).all()),
        )


def test_bulk_answer_a_bad_row_stores_nothing_a_good_file_answers_every_task(client_as, world):
    engine = client_as.engine
    client_as.app.state.clock = lambda: DISPATCH.astimezone(dt.UTC) + dt.timedelta(days=5)
    _, u, _ = world
    first, second = _two_pushes(client_as, world)
    # the liaison's own export carries the task ids and the answer columns, and uploads back as is
    header, rows = _sheet(u["liaison"].get("/api/v1/tasks/export.xlsx", params={"mine": "true"}))
    assert sorted(int(r[0]) for r in rows) == [first, second]
    # a wrong amount in the second row: the first row's good answer is not stored either
    r = _upload(
        u["liaison"],
        [
            [first, "张**", "已给予帮扶", "医疗救助", dt.date(2026, 9, 30), 1234.5, "", ""],
            [second, "赵*", "已给予帮扶", "医疗救助", "2026-09-30", "十元", "", ""],
        ],
    )
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "帮扶金额（元）" and r.json()["message_zh"].startswith("第 3 行")
    r = _upload(
        u["liaison"],
        [
            [first, "", "已给予帮扶", "慈善物资帮扶", "2026-09-30", 10, "", ""],
            [second, "", "不予帮扶", "", "", "", "", ""],
        ],
    )
    assert r.status_code == 400 and r.json()["field"] == "帮扶类别" and "医疗救助" in r.json()["message_zh"]
    r = _upload(
        u["liaison"],
        [
            [first, "", "已给予帮扶", "医疗救助", "2026-09-30", 10, "", ""],
            [second, "", "不予帮扶", "", "", "", "", ""],
        ],
    )
    assert (
        r.status_code == 400 and r.json()["field"] == "不予帮扶理由" and "第 3 行" in r.json()["message_zh"]
    )
    # a row that passes the checks but whose task cannot take it (another department's): all rolled back
    with engine.connect() as c:  # emergency management's push, not this liaison's
        other = c.execute(select(tasks.c.id).where(tasks.c.department == "emergency_management")).scalar_one()
    r = _upload(
        u["liaison"],
        [
            [first, "", "已给予帮扶", "医疗救助", "2026-09-30", 10, "", ""],
            [other, "", "不予帮扶", "", "", "", "非本部门", ""],
        ],
    )
    assert r.status_code in (400, 403) and "第 3 行" in r.json()["message_zh"], r.text
    assert _stored(engine) == (0, 0)
    with engine.connect() as c:
        assert set(c.execute(select(tasks.c.status).where(tasks.c.id.in_([first, second]))).scalars()) == {
            "pushed"
        }
    # the good file: both answered (accepted, started and fed back), the amount stored in fen
    r = _upload(
        u["liaison"],
        [
            [first, "张**", "assisted", "medical_assistance", dt.date(2026, 9, 30), 1234.5, "", "大病救助"],
            [second, "赵*", "不予帮扶", "", "", "", "不符合医疗救助条件", ""],
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["answered"] == 2
    with engine.connect() as c:
        assert set(c.execute(select(tasks.c.status).where(tasks.c.id.in_([first, second]))).scalars()) == {
            "feedback_given"
        }
        (aid,) = c.execute(select(assistance_records.c.amount_fen, assistance_records.c.kind)).all()
        outcomes = dict(c.execute(select(task_feedback.c.task_id, task_feedback.c.outcome)).all())
    assert tuple(aid) == (123450, "medical_assistance")
    assert outcomes == {first: "assisted", second: "refused"}
    # answered tasks are not answered twice
    r = _upload(u["liaison"], [[first, "", "不予帮扶", "", "", "", "重复", ""]])
    assert r.status_code == 409 and "第 2 行" in r.json()["message_zh"]


def test_bulk_answer_rejects_a_file_that_is_not_the_export(client_as, world):
    _, u, _ = world
    r = u["liaison"].post("/api/v1/tasks/feedback/bulk", files={"file": ("x.xlsx", b"not a workbook", XLSX)})
    assert r.status_code == 400 and "xlsx" in r.json()["message_zh"]
    data = workbook_bytes([Sheet("s", [Column("编号")], [[1]])])
    r = u["liaison"].post("/api/v1/tasks/feedback/bulk", files={"file": ("x.xlsx", data, XLSX)})
    assert r.status_code == 400 and "任务编号" in r.json()["message_zh"]
    assert (
        u["grid"].post("/api/v1/tasks/feedback/bulk", files={"file": ("x.xlsx", data, XLSX)}).status_code
        == 400
    )
    assert (
        u["auditor"].post("/api/v1/tasks/feedback/bulk", files={"file": ("x.xlsx", data, XLSX)}).status_code
        == 403
    )
