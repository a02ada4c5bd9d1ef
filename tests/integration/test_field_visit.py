"""A field check shows where to go (issue 16): the task detail carries the household's address, phone
and members, masked; the worker the field check is assigned to, or the grid worker of its grid, may
see the phone and the members' names for the visit (audited as `unmask`), only while it is open.
SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from safetynet.audit.store import audit_log
from safetynet.casework import service
from safetynet.casework.store import tasks
from tests.integration.test_casework import DISPATCH, _tasks, world  # noqa: F401  (the fixture)

VISIT = {"purpose": "入户核查"}


def _dispatched(engine) -> dict:  # noqa: ANN001
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    return _tasks(engine)


def _unmasks(engine, task_id: int) -> list:  # noqa: ANN001
    with engine.connect() as c:
        rows = c.execute(
            select(audit_log.c.actor, audit_log.c.fields, audit_log.c.purpose).where(
                audit_log.c.action == "unmask", audit_log.c.object_type == "task",
                audit_log.c.object_id == str(task_id))
        ).all()
    return [(a, sorted(json.loads(f) if isinstance(f, str) else f), p) for a, f, p in rows]


def test_task_detail_shows_the_household_address_phone_and_members_masked(client_as, world):  # noqa: F811
    _, u, _ = world
    t = _dispatched(client_as.engine)
    r = u["grid"].get(f"/api/v1/tasks/{t['H001', 'field_check']['id']}")
    assert r.status_code == 200, r.text
    h = r.json()["household"]
    assert h["address"] == "光明路1号"
    assert h["phone"] == "063*****4567"
    assert [(m["name"], m["relation"], m["relation_label"]) for m in h["members"]] == [
        ("张**", "head", "户主"), ("李**", "spouse", "配偶"), ("张*", "child", "子女")]
    assert h["members"][0]["age"] == 51 and all("id_number" not in m for m in h["members"])
    assert "张建国" not in r.text and "0632-1234567" not in r.text


def test_the_grid_worker_of_the_grid_unmasks_the_phone_and_names_audited(client_as, world):  # noqa: F811
    _, u, _ = world
    task = _dispatched(client_as.engine)["H001", "field_check"]["id"]
    assert u["grid"].post(f"/api/v1/tasks/{task}/visit-contact", json={}).status_code == 400  # no purpose
    assert _unmasks(client_as.engine, task) == []
    r = u["grid"].post(f"/api/v1/tasks/{task}/visit-contact", json=VISIT)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "0632-1234567"
    assert [m["name"] for m in r.json()["members"]] == ["张建国", "李秀英", "张伟"]
    assert _unmasks(client_as.engine, task) == [("grid1", ["members.name", "phone"], "入户核查")]


def test_only_the_assignee_or_the_grid_worker_may_and_only_while_open(client_as, world):  # noqa: F811
    engine = client_as.engine
    _, u, _ = world
    t = _dispatched(engine)
    h001, h002 = t["H001", "field_check"]["id"], t["H002", "field_check"]["id"]
    push = t["H001", "department_push"]["id"]

    def code(who: str, task: int) -> tuple[int, str | None]:
        r = u[who].post(f"/api/v1/tasks/{task}/visit-contact", json=VISIT)
        return r.status_code, r.json().get("code")

    # in sight but not theirs to visit: the township's caseworker, the auditor (no assignment)
    assert code("caseworker", h001) == (403, "not_your_visit")
    assert code("auditor", h001) == (403, "not_your_visit")
    # another grid's worker and another township's caseworker do not see the task at all
    assert code("grid_other", h001)[0] == 404
    assert code("other_caseworker", h001)[0] == 404
    # a department push is no field check, whoever reads it
    assert code("liaison", push) == (403, "not_a_field_check")
    # H002's grid has no worker: the township caseworker who accepts the check may see the contact
    assert code("caseworker", h002) == (403, "not_your_visit")
    r = u["caseworker"].post(f"/api/v1/tasks/{h002}/actions", json={"action": "accept"})
    assert r.status_code == 200, r.text
    r = u["caseworker"].post(f"/api/v1/tasks/{h002}/visit-contact", json=VISIT)
    assert r.status_code == 200 and [m["name"] for m in r.json()["members"]] == ["王桂兰"]
    # closed: no longer, even for the grid worker
    with engine.begin() as c:
        c.execute(update(tasks).where(tasks.c.id == h001).values(status="closed"))
    assert code("grid", h001) == (403, "task_closed")
    assert _unmasks(engine, h001) == []
    assert [a for a, *_ in _unmasks(engine, h002)] == ["casew"]
