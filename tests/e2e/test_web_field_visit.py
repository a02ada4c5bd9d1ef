"""A grid worker's day starts at the task inbox and the field check shows where to go (issue 16), in a
real browser on a 390 px phone against the live demo server: an income-drop warning on the fixture's
household (a field check only: no department is pushed) is recorded and its own month dispatched; the
grid worker signs in, lands on 待办任务, opens the field check, sees the address first and, after
查看联系方式, the household's phone in full (audited on the server)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, select

from safetynet.audit.store import audit_log
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from safetynet.registry.store import households
from tests.e2e.conftest import SCREENSHOTS, DemoSite, sign_in
from tests.e2e.test_web_closed_loop import PHONE, _confirm_prompt, _month_before_the_demo, server_engine  # noqa: F401
from tests.e2e.test_web_warnings import SCHEMA, _members

pytestmark = pytest.mark.slow  # a live server and a browser


@pytest.fixture(scope="module")
def field_check(demo_site: DemoSite, server_engine: Engine) -> dict:  # noqa: F811
    """The warning recorded in a month of its own (not the closed loop's), dispatched: the check's id."""
    hh = demo_site.household
    month = _month_before_the_demo(server_engine, months=5)
    who = _members(server_engine, hh["household_no"])[0]
    row = {"rule": "income_drop", **who, "level": "orange", "need": "basic_living", "side": "entry",
           "value": "0.5",
           "evidence": json.dumps([{"feed": "wage", "record_id": "e2e-visit", "month": month}])}
    run = start_run(server_engine, month=month, engine_name="duckdb", catalogue_digest="e" * 64, actor="e2e")
    record_warnings(server_engine, run_id=run, month=month, suppression={"income_drop": 6},
                    candidates=pa.Table.from_pylist([row], schema=SCHEMA))
    finish_run(server_engine, run, seconds=0.1, counts={})
    with demo_site.api("data_officer") as officer:
        r = officer.post("/tasks/dispatch", json={"month": month})
        assert r.status_code == 200 and r.json()["field_checks"] == 1, r.text
    with demo_site.api("e2e_grid") as grid:
        items = grid.get("/tasks", params={"task_type": "field_check", "page_size": 200}).json()["items"]
    check = next(i for i in items if i["warning_rule"] == "income_drop" and i["status"] != "closed")
    with server_engine.connect() as c:
        h = c.execute(select(households.c.address, households.c.phone)
                      .where(households.c.household_no == hh["household_no"])).one()
    assert h.address and h.phone, "the demo household has no address or phone to show"
    return {"task": check["task_id"], "address": h.address, "phone": h.phone}


def test_a_grid_worker_lands_on_the_inbox_and_sees_where_to_go(
    demo_site: DemoSite, field_check: dict, server_engine: Engine, new_page,  # noqa: F811
):
    page = new_page(viewport=PHONE)
    sign_in(page, demo_site, "e2e_grid")
    expect(page).to_have_url(demo_site.url("/tasks"))  # 待办, not the dashboard
    page.goto(demo_site.url("/"))
    expect(page).to_have_url(demo_site.url("/tasks"))
    card = page.get_by_test_id(f"task-{field_check['task']}")
    expect(card).to_be_visible()
    card.click()
    block = page.get_by_test_id("task-household")
    expect(page.get_by_test_id("visit-address")).to_have_text(field_check["address"])
    # the address comes first: above the task's facts
    assert block.bounding_box()["y"] < page.get_by_test_id("task-facts").bounding_box()["y"]
    expect(page.get_by_test_id("visit-phone")).to_contain_text("*")
    expect(page.get_by_test_id("visit-members")).to_contain_text("*")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web_field_visit-masked-phone.png"), full_page=True)
    page.get_by_test_id("visit-reveal").click()
    _confirm_prompt(page)
    expect(page.get_by_test_id("visit-phone")).to_have_text(field_check["phone"])
    expect(page.get_by_test_id("visit-reveal")).to_have_count(0)
    expect(page.locator(".el-message-box")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "web_field_visit-unmasked-phone.png"), full_page=True)
    with server_engine.connect() as c:
        actors = c.execute(select(audit_log.c.actor).where(
            audit_log.c.action == "unmask", audit_log.c.object_type == "task",
            audit_log.c.object_id == str(field_check["task"]))).scalars().all()
    assert actors == ["e2e_grid"]
