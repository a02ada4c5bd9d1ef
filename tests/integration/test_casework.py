"""The closed loop (issue 7): routing per need and region, working-day deadlines, the task workflow
(every allowed and forbidden transition), escalation, feedback creating assistance records, and the
household's chain — through the services and the real app with signed-in users, on SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pyarrow as pa
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from safetynet.casework import notify, service
from safetynet.casework.model import TRANSITIONS, Action, Status, TransitionError, next_status
from safetynet.casework.store import assistance_records, notifications, task_events, tasks
from safetynet.monitoring.store import warnings
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from safetynet.regions.store import regions
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from safetynet.workdays import service as workdays
from tests.factories import TODAY, VILLAGE, make_id, sample_register, write_register

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Monday 2026-09-28, 10:00 in Beijing: National Day (Oct 1–7) and its working Saturday (Oct 10) ahead
DISPATCH = dt.datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI)
TOWNSHIP = "370402001000"
COUNTY = "370402000000"
GRID_1 = VILLAGE + "01"  # H001; H002 is in grid 2, which has no worker
OTHER_TOWNSHIP_VILLAGE = "370402002001"  # H900
SUPPRESSION = {"medical_oop_large": 3, "recipient_death": 12, "disaster_affected": 6, "income_drop": 6}


def _end_of_day(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _warn(engine, month: str, rows: list[dict]) -> None:  # noqa: ANN001
    run = start_run(engine, month=month, engine_name="duckdb", catalogue_digest="d" * 64, actor="test")
    schema = pa.schema(
        [(k, pa.int64() if k in ("person_id", "household_id") else pa.string()) for k in rows[0]]
    )
    record_warnings(
        engine,
        run_id=run,
        month=month,
        candidates=pa.Table.from_pylist(rows, schema=schema),
        suppression=SUPPRESSION,
    )
    finish_run(engine, run, seconds=1.0, counts={})


@pytest.fixture
def world(client_as, tmp_path):  # noqa: ANN001
    """The sample register (H001 in grid 1 with a grid worker, H002 in grid 2 without one, H003 with no
    grid) plus H900 in another township; users of each role; warnings of 2026-09 on each household."""
    engine = client_as.engine
    h, p = sample_register()
    h.append(["H900", OTHER_TOWNSHIP_VILLAGE, "rural", "北村9号", "", ""])
    p.append(
        [
            "H900",
            make_id("1950-03-03", 91, sex="M"),
            "张老汉",
            "M",
            "1950-03-03",
            "head",
            "dibao",
            "2024-05-01",
            "",
            "",
            "500.00",
        ]
    )
    registry_service.import_register(engine, directory=write_register(tmp_path / "reg", h, p), as_of=TODAY)
    hh, pp, m = registry_store.households, registry_store.persons, registry_store.memberships
    with engine.connect() as c:
        people = {
            r.name: dict(r._mapping)
            for r in c.execute(
                select(
                    pp.c.name,
                    pp.c.id.label("person_id"),
                    pp.c.id_number,
                    hh.c.id.label("household_id"),
                    hh.c.household_no,
                    hh.c.region_code,
                )
                .join(m, m.c.person_id == pp.c.id)
                .join(hh, hh.c.id == m.c.household_id)
            )
        }
    users = {
        "grid": client_as("grid_worker", GRID_1, username="grid1"),
        "grid_other": client_as("grid_worker", VILLAGE + "03", username="grid3"),
        "caseworker": client_as("township_caseworker", TOWNSHIP, username="casew"),
        "liaison": client_as(
            "department_liaison", "370400000000", department="medical_insurance", username="medliaison"
        ),
        "emergency": client_as(
            "department_liaison", COUNTY, department="emergency_management", username="emliaison"
        ),
        "county": client_as("county_admin", COUNTY, username="countyadm"),
        "charity": client_as("charity", COUNTY, username="charity1"),
        "auditor": client_as("auditor", COUNTY, username="audit1"),
        "other_caseworker": client_as("township_caseworker", "370402002000", username="casew2"),
    }

    def cand(rule: str, name: str, level: str, need: str) -> dict:
        who = people[name]
        return {
            "rule": rule,
            "id_number": who["id_number"],
            "person_id": who["person_id"],
            "household_id": who["household_id"],
            "household_no": who["household_no"],
            "region_code": who["region_code"],
            "level": level,
            "need": need,
            "side": "entry",
            "value": "0.6",
            "evidence": json.dumps([{"feed": "medical", "record_id": "r1", "month": "2026-08"}]),
        }

    _warn(
        engine,
        "2026-08",
        [
            cand("medical_oop_large", "张建国", "orange", "medical"),  # H001, grid 1 (staffed)
            cand("recipient_death", "王桂兰", "red", "integrity"),  # H002, grid 2 (no worker)
            cand("disaster_affected", "赵明", "red", "disaster"),  # H003, no grid
            cand("income_drop", "张老汉", "orange", "basic_living"),  # H900, another township
        ],
    )
    with engine.connect() as c:
        wid = {r.household_no: r.id for r in c.execute(select(warnings.c.household_no, warnings.c.id))}
    return people, users, wid


def _tasks(engine) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    """(household_no, task_type) → task row."""
    with engine.connect() as c:
        rows = c.execute(
            select(tasks, registry_store.households.c.household_no).join(
                registry_store.households, registry_store.households.c.id == tasks.c.household_id
            )
        )
        return {(r.household_no, r.task_type): dict(r._mapping) for r in rows}


# --- routing and deadlines ----------------------------------------------------------------------


def test_dispatch_routes_each_need_to_its_queue_and_department_with_working_day_deadlines(client_as, world):
    engine = client_as.engine
    _, _, wid = world
    out = service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    assert out["warnings"] == 4 and out["field_checks"] == 4 and out["department_pushes"] == 2
    assert out["provisional_deadlines"] == 0
    t = _tasks(engine)
    assert set(t) == {
        ("H001", "field_check"),
        ("H001", "department_push"),
        ("H002", "field_check"),
        ("H003", "field_check"),
        ("H003", "department_push"),
        ("H900", "field_check"),
    }
    # H001: its grid has a worker → the grid's queue; medical → the county's medical insurance bureau
    assert (t["H001", "field_check"]["queue_role"], t["H001", "field_check"]["queue_region"]) == (
        "grid_worker",
        GRID_1,
    )
    push = t["H001", "department_push"]
    assert (push["queue_role"], push["queue_region"], push["department"], push["level"]) == (
        "department_liaison",
        COUNTY,
        "medical_insurance",
        "county",
    )
    # H002: grid 2 has no worker → the township caseworkers; integrity is civil affairs' own: no push
    assert (t["H002", "field_check"]["queue_role"], t["H002", "field_check"]["queue_region"]) == (
        "township_caseworker",
        TOWNSHIP,
    )
    # H003: no grid → township; disaster → emergency management
    assert t["H003", "department_push"]["department"] == "emergency_management"
    assert t["H900", "field_check"]["queue_region"] == "370402002000"
    # 5 working days from Mon 28 Sep: 29, 30 Sep, (1–7 Oct National Day), 8, 9 and Sat 10 Oct (worked)
    assert _utc(t["H001", "field_check"]["deadline_at"]) == _end_of_day(2026, 10, 10)
    # a red disaster warning: 24 clock hours
    assert _utc(t["H003", "field_check"]["deadline_at"]) == DISPATCH.astimezone(dt.UTC) + dt.timedelta(
        hours=24
    )
    # a department push: 10 working days → Fri 16 Oct
    assert _utc(push["deadline_at"]) == _end_of_day(2026, 10, 16)
    assert all(x["status"] in ("assigned", "pushed") for x in t.values())
    with engine.connect() as c:
        assert set(c.execute(select(warnings.c.status)).scalars()) == {"dispatched"}
        events = (
            c.execute(
                select(task_events.c.action)
                .where(task_events.c.task_id == push["id"])
                .order_by(task_events.c.id)
            )
            .scalars()
            .all()
        )
        notes = dict(c.execute(select(notifications.c.username, notifications.c.title_en)).all())
    assert events == ["create", "push"]
    # one summary per user of each queue
    assert notes["grid1"].startswith("1 new task") and notes["casew"].startswith("2 new task")
    assert notes["medliaison"].startswith("1 new") and notes["emliaison"].startswith("1 new")
    assert "casew2" in notes and "grid3" not in notes
    # re-running the month creates nothing
    again = service.dispatch_month(engine, month="2026-08", now=DISPATCH + dt.timedelta(hours=1))
    assert again["tasks"] == 0 and len(_tasks(engine)) == 6


def test_red_medical_is_checked_in_two_working_days(client_as, world):
    engine = client_as.engine
    people, _, _ = world
    who = people["张伟"]
    _warn(
        engine,
        "2026-10",
        [
            {
                "rule": "medical_oop_large",
                "id_number": who["id_number"],
                "person_id": who["person_id"],
                "household_id": who["household_id"],
                "household_no": "H001",
                "region_code": VILLAGE,
                "level": "red",
                "need": "medical",
                "side": "entry",
                "value": "1.2",
                "evidence": "[]",
            }
        ],
    )
    service.dispatch_month(engine, month="2026-10", now=DISPATCH)
    with engine.connect() as c:
        due = c.execute(
            select(tasks.c.deadline_at)
            .join(warnings, warnings.c.id == tasks.c.warning_id)
            .where(warnings.c.month == "2026-10", tasks.c.task_type == "field_check")
        ).scalar_one()
    assert _utc(due) == _end_of_day(2026, 9, 30)


def test_a_year_the_calendar_lacks_gives_a_provisional_deadline_until_an_administrator_adds_it(
    client_as, world
):
    engine = client_as.engine
    # Monday 28 Dec 2026: the 5th working day lies in 2027, which chinese_calendar does not know
    late = dt.datetime(2026, 12, 28, 9, 0, tzinfo=SHANGHAI)
    out = service.dispatch_month(engine, month="2026-08", now=late)
    # all but the red disaster check, due in 24 clock hours
    assert out["tasks"] == 6 and out["provisional_deadlines"] == 5
    t = _tasks(engine)
    field = t["H001", "field_check"]
    # Monday to Friday stand in: 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan
    assert field["deadline_provisional"] and _utc(field["deadline_at"]) == _end_of_day(2027, 1, 4)
    # the administrator adds 2027 from the notice (New Year's Day off; 4 Jan taken as holiday here too)
    workdays.add_year(
        engine,
        year=2027,
        holidays=[(dt.date(2027, 1, 1), "元旦"), (dt.date(2027, 1, 4), "元旦")],
        workdays=[],
        actor="admin",
        note="test notice",
    )
    swept = service.sweep_overdue(engine, now=late + dt.timedelta(hours=1))
    assert swept["recomputed"] == 5 and swept["escalated"] == 0
    field = _tasks(engine)["H001", "field_check"]
    # 29, 30, 31 Dec, (1 Jan off), (4 Jan off), 5 Jan, 6 Jan
    assert not field["deadline_provisional"] and _utc(field["deadline_at"]) == _end_of_day(2027, 1, 6)


def test_routing_changes_keep_history_and_apply_from_their_date(client_as, world):
    engine = client_as.engine
    admin = client_as("province_admin", "37")
    r = admin.put(
        "/api/v1/routing/medical",
        json={
            "department": "health",
            "level": "city",
            "valid_from": "2026-09-01",
            "source": "省卫健委通知（测试）",
        },
    )
    assert r.status_code == 200, r.text
    body = admin.get("/api/v1/routing").json()
    assert body["in_force"]["medical"]["department"] == "health"
    medical = [x for x in body["history"] if x["need"] == "medical"]
    assert [(x["department"], x["valid_to"]) for x in medical] == [
        ("health", None),
        ("medical_insurance", "2026-08-31"),
    ]
    # a start before the current rule's is refused, with what is valid
    r = admin.put(
        "/api/v1/routing/medical",
        json={
            "department": "medical_insurance",
            "level": "county",
            "valid_from": "2026-01-01",
            "source": "x",
        },
    )
    assert r.status_code == 400 and "valid_from must be after 2026-09-01" in r.json()["message"]
    assert (
        admin.put(
            "/api/v1/routing/medical",
            json={"department": "police", "level": "county", "valid_from": "2026-10-01", "source": "x"},
        ).status_code
        == 400
    )
    # a county administrator may not change routing
    county = world[1]["county"]
    assert (
        county.put(
            "/api/v1/routing/medical",
            json={"department": "health", "level": "city", "valid_from": "2026-10-01", "source": "x"},
        ).status_code
        == 403
    )
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    push = _tasks(engine)["H001", "department_push"]
    assert (push["department"], push["queue_region"]) == ("health", "370400000000")


# --- the workflow -------------------------------------------------------------------------------

# The lifecycle as issue 7 states it, written out independently of model.TRANSITIONS.
EXPECTED = {
    ("assign", "new"): "assigned",
    ("push", "new"): "pushed",
    **{("accept", s): "accepted" for s in ("assigned", "pushed", "escalated", "returned")},
    ("start", "accepted"): "verifying",
    ("feedback", "verifying"): "feedback_given",
    ("close", "feedback_given"): "closed",
    **{("return", s): "returned" for s in ("assigned", "pushed", "accepted", "verifying", "feedback_given")},
    **{
        ("reassign", s): "assigned"
        for s in ("assigned", "pushed", "accepted", "verifying", "returned", "escalated")
    },
    **{("escalate", s): "escalated" for s in ("assigned", "pushed", "accepted", "verifying", "returned")},
}


@pytest.mark.parametrize("action", [a.value for a in Action])
@pytest.mark.parametrize("status", [s.value for s in Status])
def test_every_allowed_and_forbidden_transition(action, status):
    want = EXPECTED.get((action, status))
    if want is None:
        with pytest.raises(TransitionError) as e:
            next_status(action, status)
        assert action in str(e.value) and e.value.message_zh
    else:
        assert next_status(action, status).value == want
    assert sum(len(v) for v in TRANSITIONS.values()) == len(EXPECTED)


def _act(client, task_id: int, action: str, **body) -> dict:  # noqa: ANN001
    r = client.post(f"/api/v1/tasks/{task_id}/actions", json={"action": action, **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_field_check_loop_through_the_api_with_who_may_do_what(client_as, world, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(tmp_path / "data"))
    from safetynet.config import get_settings

    get_settings.cache_clear()
    engine = client_as.engine
    client_as.app.state.clock = lambda: DISPATCH.astimezone(dt.UTC) + dt.timedelta(hours=2)
    people, u, wid = world
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    task = _tasks(engine)["H001", "field_check"]["id"]

    inbox = u["grid"].get("/api/v1/tasks", params={"mine": "true"}).json()
    assert [i["task_id"] for i in inbox["items"]] == [task]
    item = inbox["items"][0]
    assert item["name"] == "张**" and item["household_no"] == "****" and item["overdue"] is False
    # the queue comes with its place's name (the grid's), as the register of regions has it
    with engine.connect() as c:
        grid_name = c.execute(select(regions.c.name).where(regions.c.code == GRID_1)).scalar_one()
    assert (item["queue_region"], item["queue_region_name"]) == (GRID_1, grid_name)
    assert u["grid"].get("/api/v1/tasks/counts").json()["mine_open"] == 1
    # another grid's worker sees nothing of it; the other township's caseworker gets 404
    assert u["grid_other"].get("/api/v1/tasks").json()["total"] == 0
    assert u["other_caseworker"].get(f"/api/v1/tasks/{task}").status_code == 404
    # the medical liaison sees the department push, never the field check
    assert u["liaison"].get(f"/api/v1/tasks/{task}").status_code == 404
    detail = u["grid"].get(f"/api/v1/tasks/{task}").json()
    assert (
        detail["rule_name_zh"] == "医疗自付费用过高（因病致贫风险）"
        and detail["household_link"] == "/households/H001"
    )
    assert "registered_household_no" not in detail and inbox["items"][0]["rule_name_en"].startswith(
        "Large medical"
    )
    assert (
        detail["allowed_actions"] == ["accept", "return"] and detail["warning"]["rule"] == "medical_oop_large"
    )
    # forbidden: feedback before accepting; closing is the township's
    r = u["grid"].post(f"/api/v1/tasks/{task}/actions", json={"action": "close"})
    assert (
        r.status_code == 409
        and r.json()["code"] == "transition_not_allowed"
        and "accept" in r.json()["message"]
    )
    r = u["grid"].post(f"/api/v1/tasks/{task}/feedback", data={"outcome": "confirmed_need"})
    assert r.status_code == 409
    # the auditor reads but does not act
    assert u["auditor"].get(f"/api/v1/tasks/{task}").status_code == 200
    assert u["auditor"].post(f"/api/v1/tasks/{task}/actions", json={"action": "accept"}).status_code == 403

    _act(u["grid"], task, "accept")
    # once accepted, only the assignee works it: the caseworker may not start it
    r = u["caseworker"].post(f"/api/v1/tasks/{task}/actions", json={"action": "start"})
    assert r.status_code == 403 and r.json()["code"] == "not_your_task"
    _act(u["grid"], task, "start")
    # a bad form: notes needed for "wrong data", an executable is not a photo
    r = u["grid"].post(f"/api/v1/tasks/{task}/feedback", data={"outcome": "wrong_data"})
    assert r.status_code == 422 and r.json()["field"] == "notes"
    r = u["grid"].post(
        f"/api/v1/tasks/{task}/feedback",
        data={"outcome": "confirmed_need", "notes": "x"},
        files={"file": ("a.exe", b"MZ\x90", "application/octet-stream")},
    )
    assert r.status_code == 422 and r.json()["field"] == "attachment"
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    r = u["grid"].post(
        f"/api/v1/tasks/{task}/feedback",
        data={"outcome": "confirmed_need", "notes": "住院费用高，家中无劳力"},
        files={"file": ("visit.png", photo, "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "feedback_given" and body["feedback"][0]["outcome"] == "confirmed_need"
    # the township returns it once (more detail), the grid worker redoes it, the township closes
    r = u["caseworker"].post(f"/api/v1/tasks/{task}/actions", json={"action": "return"})
    assert r.status_code == 422 and r.json()["field"] == "note"
    _act(u["caseworker"], task, "return", note="请补充医疗费用票据")
    _act(u["grid"], task, "accept")
    _act(u["grid"], task, "start")
    r = u["grid"].post(
        f"/api/v1/tasks/{task}/feedback", data={"outcome": "confirmed_need", "notes": "已补充票据"}
    )
    assert r.status_code == 200
    closed = _act(u["caseworker"], task, "close", note="核实无误")
    assert closed["status"] == "closed" and closed["allowed_actions"] == []
    assert [h["to_status"] for h in closed["history"]] == [
        "new",
        "assigned",
        "accepted",
        "verifying",
        "feedback_given",
        "returned",
        "accepted",
        "verifying",
        "feedback_given",
        "closed",
    ]
    assert all(
        closed["timestamps"][s]
        for s in ("new", "assigned", "accepted", "verifying", "feedback_given", "returned", "closed")
    )
    # the photo comes back to a reader of the task, audited
    url = closed["feedback"][0]["attachment"]["url"]
    got = u["caseworker"].get(url)
    assert got.status_code == 200 and got.content == photo
    assert u["other_caseworker"].get(url).status_code == 404
    with engine.connect() as c:
        # the warning's other task (the department push) is still open: the warning is not closed yet
        assert (
            c.execute(select(warnings.c.status).where(warnings.c.id == wid["H001"])).scalar_one()
            == "dispatched"
        )
        mine = (
            c.execute(
                select(notifications.c.kind)
                .where(notifications.c.username == "grid1")
                .order_by(notifications.c.id)
            )
            .scalars()
            .all()
        )
    assert mine == ["new_tasks", "return", "close"]
    listing = u["grid"].get("/api/v1/notifications").json()
    assert listing["unread"] == 3
    u["grid"].post("/api/v1/notifications/read", json={"ids": [listing["items"][0]["notification_id"]]})
    assert u["grid"].get("/api/v1/notifications").json()["unread"] == 2
    get_settings.cache_clear()


def test_department_feedback_records_assistance_once_and_the_chain_shows_every_source(client_as, world):
    engine = client_as.engine
    now = DISPATCH.astimezone(dt.UTC) + dt.timedelta(days=5)
    client_as.app.state.clock = lambda: now
    people, u, wid = world
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    t = _tasks(engine)
    push, field = t["H001", "department_push"]["id"], t["H001", "field_check"]["id"]
    inbox = u["liaison"].get("/api/v1/tasks", params={"mine": "true"}).json()
    assert [i["task_id"] for i in inbox["items"]] == [push]
    _act(u["liaison"], push, "accept")
    _act(u["liaison"], push, "start")
    r = u["liaison"].post(f"/api/v1/tasks/{push}/feedback", data={"outcome": "refused"})
    assert r.status_code == 422 and r.json()["field"] == "refusal_reason"
    r = u["liaison"].post(
        f"/api/v1/tasks/{push}/feedback",
        data={"outcome": "assisted", "assistance_kind": "charity_material", "given_on": "2026-09-30"},
    )
    assert r.status_code == 422 and r.json()["field"] == "kind"  # not a department's kind of aid
    r = u["liaison"].post(
        f"/api/v1/tasks/{push}/feedback",
        data={
            "outcome": "assisted",
            "assistance_kind": "medical_assistance",
            "amount_fen": "123456",
            "given_on": "2026-09-30",
            "notes": "大病医疗救助",
        },
    )
    assert r.status_code == 200, r.text
    assistance_id = r.json()["feedback"][0]["assistance_id"]
    # the same aid entered again by hand is refused: recorded once
    again = u["liaison"].post(
        "/api/v1/assistance",
        json={
            "household_no": "H001",
            "kind": "medical_assistance",
            "amount_fen": 123456,
            "given_on": "2026-09-30",
        },
    )
    assert again.status_code == 409 and again.json()["code"] == "already_recorded"
    # a charity and civil affairs add theirs
    assert (
        u["charity"]
        .post(
            "/api/v1/assistance",
            json={
                "household_no": "H001",
                "kind": "charity_material",
                "given_on": "2026-10-02",
                "notes": "米面油",
                "source": "枣庄慈善总会",
            },
        )
        .status_code
        == 201
    )
    assert (
        u["charity"]
        .post("/api/v1/assistance", json={"household_no": "H001", "kind": "dibao", "given_on": "2026-10-02"})
        .status_code
        == 422
    )
    assert (
        u["charity"]
        .post(
            "/api/v1/assistance",
            json={"household_no": "H001", "kind": "charity_material", "given_on": "2027-01-01"},
        )
        .status_code
        == 422
    )
    assert (
        u["caseworker"]
        .post(
            "/api/v1/assistance",
            json={
                "household_no": "H001",
                "kind": "temporary_assistance",
                "amount_fen": 50000,
                "given_on": "2026-10-01",
            },
        )
        .status_code
        == 201
    )
    _act(u["caseworker"], push, "close")
    # the field check too, by the grid worker, so the warning closes with its last task
    for action in ("accept", "start"):
        _act(u["grid"], field, action)
    u["grid"].post(f"/api/v1/tasks/{field}/feedback", data={"outcome": "confirmed_need"})
    _act(u["caseworker"], field, "close")
    with engine.connect() as c:
        assert (
            c.execute(select(warnings.c.status).where(warnings.c.id == wid["H001"])).scalar_one() == "closed"
        )
        rec = c.execute(select(assistance_records).where(assistance_records.c.id == assistance_id)).one()
    assert (rec.source_kind, rec.source, rec.amount_fen, rec.task_id) == (
        "department",
        "medical_insurance",
        123456,
        push,
    )

    chain = u["caseworker"].get("/api/v1/households/H001/chain").json()["entries"]
    kinds = [e["kind"] for e in chain]
    # oldest first: the tier (2024), the warning, the tasks' steps, feedback, then the aid by its date
    assert kinds[0] == "tier" and kinds.index("warning") < kinds.index("task") < kinds.index("feedback")
    aid = [e for e in chain if e["kind"] == "assistance"]
    assert [(a["source_kind"], a["at"]) for a in aid] == [
        ("department", "2026-09-30"),
        ("civil_affairs", "2026-10-01"),
        ("charity", "2026-10-02"),
    ]
    assert "1234.56" in aid[0]["title_zh"]
    assert [e["at"] for e in chain] == sorted(e["at"] for e in chain) or all(
        a["at"] <= b["at"] or len(a["at"]) != len(b["at"]) for a, b in zip(chain, chain[1:], strict=False)
    )
    # the same chain as Excel
    r = u["caseworker"].get("/api/v1/households/H001/chain.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    assert rows[2][:3] == ["时间", "类别", "事项"] and len(rows) == 3 + len(chain)
    assert any("1234.56" == str(row[3]) for row in rows[3:])
    # outside the region: 404; reads audited
    assert u["other_caseworker"].get("/api/v1/households/H001/chain").status_code == 404


def test_overdue_tasks_escalate_to_the_next_level_and_tell_it(client_as, world):
    engine = client_as.engine
    _, u, _ = world
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    t = _tasks(engine)
    # the day after the grid's deadline (Sat 10 Oct): the grid's field check goes to the township
    later = _end_of_day(2026, 10, 10) + dt.timedelta(hours=1)
    out = service.sweep_overdue(engine, now=later)
    escalated = _tasks(engine)
    grid_task = escalated["H001", "field_check"]
    assert (
        grid_task["status"],
        grid_task["queue_role"],
        grid_task["queue_region"],
        grid_task["escalations"],
    ) == ("escalated", "township_caseworker", TOWNSHIP, 1)
    # 3 working days at the next level: Mon 12, Tue 13, Wed 14 Oct
    assert _utc(grid_task["deadline_at"]) == _end_of_day(2026, 10, 14)
    # the township's own field checks go to the county; department pushes (due 16 Oct) are not due yet
    assert escalated["H002", "field_check"]["queue_role"] == "county_admin"
    assert escalated["H001", "department_push"]["status"] == "pushed"
    assert out["escalated"] == 4 and out["failed"] == 0  # H001, H002, H003 field checks and H900's
    # a second sweep at the same moment changes nothing
    assert service.sweep_overdue(engine, now=later)["escalated"] == 0
    # the department push escalates from the county to the city's liaison
    service.sweep_overdue(engine, now=_end_of_day(2026, 10, 16) + dt.timedelta(hours=1))
    push = _tasks(engine)["H001", "department_push"]
    assert (push["queue_region"], push["department"]) == ("370400000000", "medical_insurance")
    with engine.connect() as c:
        kinds = (
            c.execute(
                select(notifications.c.kind).where(
                    notifications.c.username == "casew", notifications.c.kind == "escalate"
                )
            )
            .scalars()
            .all()
        )
    assert kinds == ["escalate"]  # the H001 field check came to the township
    # escalated tasks are accepted by the township's caseworker and show as overdue on the figures
    _act(u["caseworker"], t["H001", "field_check"]["id"], "accept")
    client_as.app.state.clock = lambda: _end_of_day(2026, 10, 20)
    figures = u["county"].get("/api/v1/tasks/figures").json()
    assert figures["created"] == 6 and figures["closed"] == 0 and figures["escalated"] == 6
    # the pushes escalated on 17 Oct are due on Wed 21 Oct: not yet overdue
    assert figures["overdue"] == 4 and figures["overdue_by_township"][0] == {
        "region_code": TOWNSHIP,
        "name": figures["overdue_by_township"][0]["name"],
        "overdue": 3,
    }
    assert figures["median_hours_to_first_action"] is not None


def test_reassign_to_another_worker_and_plugin_channels_receive_notifications(client_as, world):
    engine = client_as.engine
    _, u, _ = world
    sent = []

    class Recorder:
        name = "test-recorder"

        def send(self, message):  # noqa: ANN001, ANN201
            sent.append((message.username, message.kind))

    notify.register_channel(Recorder())
    try:
        service.dispatch_month(engine, month="2026-08", now=DISPATCH)
        task = _tasks(engine)["H002", "field_check"]["id"]  # grid 2 had no worker: the township's
        # the caseworker sends the worker of grid 3, a grid of the same township, by name
        r = u["caseworker"].post(
            f"/api/v1/tasks/{task}/actions",
            json={"action": "reassign", "to_user": "grid3", "note": "就近核查"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["assignee"] == "grid3" and r.json()["status"] == "assigned"
        # a user outside the township is refused
        r = u["caseworker"].post(
            f"/api/v1/tasks/{task}/actions", json={"action": "reassign", "to_user": "casew2"}
        )
        assert r.status_code == 422 and r.json()["field"] == "to_user"
        # a grid worker cannot reassign; grid 1's worker does not even see grid 2's task
        assert (
            u["grid_other"]
            .post(f"/api/v1/tasks/{task}/actions", json={"action": "reassign", "to_user": "grid1"})
            .status_code
            == 403
        )
        assert u["grid"].get(f"/api/v1/tasks/{task}").status_code == 404
        _act(u["grid_other"], task, "accept")
        # …who hands it back (not their grid): it goes to the township's queue, out of their inbox
        back = _act(u["grid_other"], task, "return", note="非本网格住户")
        assert (back["queue_role"], back["queue_region"], back["assignee"]) == (
            "township_caseworker",
            TOWNSHIP,
            None,
        )
        assert task in [
            i["task_id"]
            for i in u["caseworker"].get("/api/v1/tasks", params={"mine": "true"}).json()["items"]
        ]
        assert u["grid_other"].get(f"/api/v1/tasks/{task}").status_code == 404
    finally:
        notify.unregister_channel("test-recorder")
    assert ("grid3", "reassign") in sent and ("casew", "new_tasks") in sent


# --- the warning page's evidence: the feed rows behind it -----------------------------------------


def test_the_feed_rows_behind_a_warning_masked_as_the_role_requires(client_as, tmp_path, monkeypatch):
    from safetynet.audit.store import audit_log
    from safetynet.config import get_settings
    from tests.integration.monitoring_data import CATALOGUE, Feeds, Household, register, run

    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(tmp_path))  # the lake the run wrote: tmp_path / "lake"
    get_settings.cache_clear()
    try:
        engine = client_as.engine
        h = Household("HM")
        patient = h.add(name="钱多多")
        register(engine, tmp_path, [h])
        f = Feeds()
        f.wage(patient, "2025-01", "20000")
        record = f.add(
            "medical",
            patient,
            name="钱多多",
            settled_on="2025-03-15",
            kind="inpatient",
            total_cost="30000",
            fund_paid="10000",
            out_of_pocket="20000",
        )
        f.ingest(engine, tmp_path)
        medical = [r for r in CATALOGUE if r.id == "medical_oop_large"]
        run(engine, tmp_path, catalogue=dataclasses.replace(CATALOGUE, rules=tuple(medical)))
        with engine.connect() as c:
            warning_id = c.execute(select(warnings.c.id)).scalar_one()
        caseworker = client_as("township_caseworker", TOWNSHIP)
        body = caseworker.get(f"/api/v1/warnings/{warning_id}/evidence").json()
        assert body["total"] == 1
        row = body["items"][0]
        assert (row["feed"], row["record_id"], row["restricted"]) == ("medical", record, False)
        assert row["values"]["out_of_pocket_fen"] == 2_000_000 and row["values"]["kind"] == "inpatient"
        assert (
            row["values"]["name"] == "钱**"
            and row["values"]["id_number"] == patient[:6] + "********" + patient[-4:]
        )
        assert row["labels"]["out_of_pocket_fen"].endswith("（分）")
        # a grid worker of the village sees which record, not its contents; the medical insurance liaison
        # (the feed is their department's) sees it whole; another township: 404
        grid = client_as("grid_worker", VILLAGE + "01")
        with engine.begin() as c:
            c.execute(registry_store.households.update().values(grid_code=VILLAGE + "01"))
        hidden = grid.get(f"/api/v1/warnings/{warning_id}/evidence").json()["items"][0]
        assert hidden["restricted"] is True and "values" not in hidden and hidden["record_id"] == record
        liaison = client_as("department_liaison", "370400000000", department="medical_insurance")
        assert (
            liaison.get(f"/api/v1/warnings/{warning_id}/evidence").json()["items"][0]["restricted"] is False
        )
        other = client_as("township_caseworker", "370402002000")
        assert other.get(f"/api/v1/warnings/{warning_id}/evidence").status_code == 404
        with engine.connect() as c:
            reads = c.execute(
                select(audit_log.c.actor, audit_log.c.fields)
                .where(audit_log.c.object_type == "warning_evidence")
                .order_by(audit_log.c.id)
            ).all()
        assert [r.actor for r in reads] == [caseworker.username, grid.username, liaison.username]
        assert "out_of_pocket_fen" in reads[0].fields and "out_of_pocket_fen" not in reads[1].fields
    finally:
        get_settings.cache_clear()


def test_a_liaison_reads_the_warnings_the_routing_table_pushes_to_their_department(client_as, world):
    _, u, wid = world
    assert [
        i["warning_id"]
        for i in u["liaison"].get("/api/v1/warnings", params={"month": "2026-08"}).json()["items"]
    ] == [wid["H001"]]
    admin = client_as("province_admin", "37")
    # from today medical needs go to the health commission: the medical insurance liaison no longer reads them
    today = dt.date.today().isoformat()
    r = admin.put(
        "/api/v1/routing/medical",
        json={"department": "health", "level": "county", "valid_from": today, "source": "测试"},
    )
    assert r.status_code == 200, r.text
    assert u["liaison"].get("/api/v1/warnings", params={"month": "2026-08"}).json()["items"] == []
    health = client_as("department_liaison", "370400000000", department="health")
    assert [
        i["warning_id"] for i in health.get("/api/v1/warnings", params={"month": "2026-08"}).json()["items"]
    ] == [wid["H001"]]


def test_the_synthetic_field_work_walks_tasks_through_the_real_workflow(client_as, world):
    from safetynet.casework.store import task_feedback
    from safetynet.synth.fieldwork import simulate_month

    engine = client_as.engine
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    counts = simulate_month(engine, month="2026-08", dispatched_at=DISPATCH)
    assert counts["tasks"] == 6 and counts["closed"] <= counts["feedback"] == counts["accepted"] <= 6
    again = simulate_month(engine, month="2026-08", dispatched_at=DISPATCH)
    assert again["tasks"] == 6 - counts["accepted"]  # only the untouched ones are left to act on
    with engine.connect() as c:
        closed = c.execute(select(tasks.c.id).where(tasks.c.status == "closed")).scalars().all()
        with_feedback = set(c.execute(select(task_feedback.c.task_id)).scalars())
        steps = c.execute(
            select(task_events.c.task_id, task_events.c.to_status).order_by(task_events.c.id)
        ).all()
    assert len(closed) == counts["closed"] + again["closed"] and set(closed) <= with_feedback
    for task_id in closed:
        assert [s for t, s in steps if t == task_id][-4:] == [
            "accepted",
            "verifying",
            "feedback_given",
            "closed",
        ]


def test_reads_of_tasks_and_chains_add_exactly_one_audit_row_each_without_values(client_as, world):
    from safetynet.audit.store import audit_log

    engine = client_as.engine
    _, u, _ = world
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    task = _tasks(engine)["H001", "field_check"]["id"]
    with engine.connect() as c:
        start = c.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1)).scalar_one()
    cw = u["caseworker"]
    assert cw.get("/api/v1/tasks").status_code == 200  # masked list: no row
    assert cw.get("/api/v1/tasks/counts").status_code == 200
    assert cw.get(f"/api/v1/tasks/{task}").status_code == 200
    assert cw.get("/api/v1/households/H001/chain").status_code == 200
    assert cw.get("/api/v1/households/H001/chain.xlsx").status_code == 200
    _act(u["grid"], task, "accept")
    with engine.connect() as c:
        rows = c.execute(select(audit_log).where(audit_log.c.id > start).order_by(audit_log.c.id)).all()
    assert [(r.actor, r.action, r.object_type, r.object_id) for r in rows] == [
        ("casew", "read", "task", str(task)),
        ("casew", "read", "household_chain", "H001"),
        ("casew", "export", "household_chain", "H001"),
        ("grid1", "write", "task", str(task)),  # the acceptance
        ("grid1", "read", "task", str(task)),  # the page the answer shows
    ]
    assert not any("张建国" in str(tuple(r)) for r in rows)


def test_median_hours_to_first_action_is_the_middle_of_the_regions_tasks(client_as, world):
    """Sorted and picked in the database: the upper middle of an even count, tasks without a first
    action left out, tasks outside the reader's region not counted."""
    engine = client_as.engine
    _, u, _ = world
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    with engine.connect() as c:
        ids = c.execute(select(tasks.c.id, tasks.c.region_code).order_by(tasks.c.id)).all()
    county = [i for i, region in ids if region.startswith(COUNTY[:6])]
    assert len(county) >= 5
    start = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)

    def act_after(hours_by_task: dict[int, float | None]) -> None:
        with engine.begin() as c:
            for task_id, hours in hours_by_task.items():
                c.execute(tasks.update().where(tasks.c.id == task_id).values(
                    created_at=start,
                    first_action_at=None if hours is None else start + dt.timedelta(hours=hours)))

    def median() -> float | None:
        return u["county"].get("/api/v1/tasks/figures").json()["median_hours_to_first_action"]

    act_after({i: None for i in county})
    assert median() is None
    act_after(dict(zip(county[:4], [48, 1.5, 30, 5], strict=True)))
    assert median() == 30.0  # 1.5, 5, 30, 48: the upper middle
    act_after({county[0]: None})
    assert median() == 5.0  # 1.5, 5, 30
    # H900's township is not the caseworker's: its field check (10 h) counts for the county only
    other = [i for i, region in ids if region.startswith(OTHER_TOWNSHIP_VILLAGE[:9])]
    assert len(other) == 1 and other[0] not in county[:4]
    act_after({other[0]: 10})
    own = u["caseworker"].get("/api/v1/tasks/figures").json()["median_hours_to_first_action"]
    assert (own, median()) == (5.0, 10.0)  # 1.5, 5, 30 and 1.5, 5, 10, 30


def test_those_told_of_a_queue_are_exactly_those_who_may_accept_its_tasks(client_as):
    """Notification recipients follow `access.works_queue`, the rule that lets a user accept a task:
    a reviewer works the caseworkers' queue, a liaison their department's queues inside their region,
    an account bound above its role's usual level every queue of its role below it; inactive ones not."""
    from safetynet.auth import service as auth_service
    from safetynet.casework.access import works_queue
    from safetynet.casework.model import Queue

    accounts = [
        ("township_caseworker", TOWNSHIP, None),
        ("township_reviewer", TOWNSHIP, None),
        ("township_caseworker", "370402002000", None),
        ("township_caseworker", COUNTY, None),  # bound to the county: every township's queue in it
        ("township_caseworker", VILLAGE, None),  # bound to a village: no township queue
        ("grid_worker", GRID_1, None),
        ("county_admin", COUNTY, None),
        ("department_liaison", "370400000000", "medical_insurance"),
        ("department_liaison", COUNTY, "medical_insurance"),
        ("department_liaison", COUNTY, "emergency_management"),
        ("department_liaison", "370500000000", "medical_insurance"),
    ]
    made = [(client_as.user(role, region, department=dep), role, region, dep)
            for role, region, dep in accounts]
    retired = client_as.user("township_caseworker", TOWNSHIP)
    auth_service.update_user(client_as.engine, username=retired, by=None, active=False)
    queues = [
        Queue("township_caseworker", TOWNSHIP),
        Queue("township_caseworker", "370402002000"),
        Queue("grid_worker", GRID_1),
        Queue("grid_worker", VILLAGE + "02"),
        Queue("county_admin", COUNTY),
        Queue("department_liaison", COUNTY, "medical_insurance"),
        Queue("department_liaison", "370400000000", "medical_insurance"),
        Queue("department_liaison", COUNTY, "emergency_management"),
    ]
    with client_as.engine.connect() as conn:
        index = notify.Recipients(conn)
        for queue in queues:
            expected = sorted(u for u, role, region, dep in made if works_queue(role, region, dep, queue))
            assert notify.recipients(conn, queue) == expected == index.of(queue), queue
    with client_as.engine.connect() as conn:
        told = notify.recipients(conn, Queue("township_caseworker", TOWNSHIP))
    assert len(told) == 3 and retired not in told  # caseworker, reviewer, the county-bound caseworker


def test_outside_channels_are_told_only_once_the_action_has_committed(client_as, world):
    """A channel reads, on a connection of its own, what it is told about: the action is already
    there. A transaction that fails tells no outside channel (its in-platform rows roll back with it)."""
    engine = client_as.engine
    _, u, _ = world
    seen = []

    class Witness:
        name = "test-witness"

        def send(self, message):  # noqa: ANN001, ANN201
            with engine.connect() as c:
                status = c.execute(select(tasks.c.status).where(tasks.c.id == message.task_id)).scalar()
                count = len(c.execute(select(tasks.c.id)).all())
            seen.append((message.username, message.kind, status, count))

    notify.register_channel(Witness())
    try:
        service.dispatch_month(engine, month="2026-08", now=DISPATCH)
        created = len(_tasks(engine))
        assert seen and all(kind == "new_tasks" and n == created for _, kind, _, n in seen)
        seen.clear()
        task = _tasks(engine)["H002", "field_check"]["id"]
        r = u["caseworker"].post(f"/api/v1/tasks/{task}/actions",
                                 json={"action": "reassign", "to_user": "grid3", "note": "就近核查"})
        assert r.status_code == 200, r.text
        assert seen == [("grid3", "reassign", "assigned", created)]
        seen.clear()
        message = notify.Message("grid3", "reassign", "标题", "title", f"/tasks/{task}", task)
        with pytest.raises(RuntimeError), notify.sent_after_commit(), engine.begin() as conn:
            notify._deliver(conn, [message], DISPATCH)
            raise RuntimeError("the action fails after telling")
        assert seen == []
        with engine.connect() as c:
            stored = c.execute(select(notifications.c.id).where(notifications.c.title_en == "title")).all()
        assert stored == []
        # a use case run inside another's transaction (the bulk upload's rows): its messages wait
        # for the outer block, and go nowhere when a later row fails
        with pytest.raises(RuntimeError), notify.sent_after_commit(), engine.begin() as conn:
            with notify.sent_after_commit():
                notify._deliver(conn, [message], DISPATCH)
            assert seen == []
            raise RuntimeError("a later row of the upload fails")
        assert seen == []
    finally:
        notify.unregister_channel("test-witness")
