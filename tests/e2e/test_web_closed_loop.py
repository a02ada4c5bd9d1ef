"""The closed loop (issue 7) in a real browser against the live demo server: one warning walked all the
way round, each person signed in as themselves —

  a medical warning (orange) on a member of the fixture's household is recorded straight into the
  server's database, as the monitoring engine records it; the data officer dispatches its month through
  the API: a field check for the household's grid worker and a push to the county's medical insurance
  liaison. Then, in the browser, the grid worker (on a 390 px phone) accepts, starts and reports
  "need confirmed" with a photo; the liaison accepts, starts and reports assistance of 1234.56 yuan; the
  township caseworker sees the notification, reads both feedbacks and closes both tasks; the warning
  page lists its tasks closed and the household's chain shows the warning, the steps, the feedback and
  the assistance.

The warning's month is one of its own, a few months before the demo's monitored months: in the past, so
the chain shows the warning before the steps taken on it; not monitored by the demo, so dispatching it
makes this warning's tasks only; before the warnings test's 2030-01, which stays the latest month."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pyarrow as pa
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, func, select

from safetynet.db import make_engine
from safetynet.monitoring.store import monitor_runs
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from tests.e2e.conftest import E2E_PASSWORD, SCREENSHOTS, DemoSite, field, sign_in
from tests.e2e.test_web_warnings import SCHEMA, _members, _postgres_database

pytestmark = pytest.mark.slow  # a live server and a browser

LIAISON = "e2e_liaison"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the server checks the declared type and the size
AMOUNT_YUAN = "1234.56"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server_engine(demo_site: DemoSite) -> Iterator[Engine]:
    url = (_postgres_database(demo_site) if demo_site.database == "postgresql"
           else f"sqlite:///{demo_site.data_dir / 'safetynet.sqlite3'}")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _month_before_the_demo(engine: Engine, months: int = 3) -> str:
    with engine.connect() as c:
        first = c.execute(select(func.min(monitor_runs.c.month))).scalar_one()
    assert first, "the demo server monitored no month"
    index = int(first[:4]) * 12 + int(first[5:7]) - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _county(detail: dict) -> str:
    return next(r["code"] for r in detail["region_path"] if r["level"] == "county")


@pytest.fixture(scope="module")
def loop(demo_site: DemoSite, server_engine: Engine) -> dict:
    """The warning recorded, the liaison created, the month dispatched; the two tasks' ids."""
    hh = demo_site.household
    month = _month_before_the_demo(server_engine)
    who = _members(server_engine, hh["household_no"])[-1]
    evidence = [{"feed": "medical", "record_id": "e2e-loop", "month": month}]
    row = {"rule": "medical_oop_large", **who, "level": "orange", "need": "medical", "side": "entry",
           "value": "0.62", "evidence": json.dumps(evidence)}
    run = start_run(server_engine, month=month, engine_name="duckdb", catalogue_digest="c" * 64, actor="e2e")
    record_warnings(server_engine, run_id=run, month=month, suppression={"medical_oop_large": 3},
                    candidates=pa.Table.from_pylist([row], schema=SCHEMA))
    finish_run(server_engine, run, seconds=0.1, counts={})
    county = _county(hh["detail"])
    with demo_site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": LIAISON, "password": E2E_PASSWORD,
                                       "role": "department_liaison", "region_code": county,
                                       "department": "medical_insurance", "display_name": "测试·医保联络员"})
        assert r.status_code in (200, 201), r.text
        demo_site.users[LIAISON] = E2E_PASSWORD
        items = admin.get("/warnings", params={"month": month, "page_size": 200}).json()["items"]
    warning_id = next(i["warning_id"] for i in items if i["person_id"] == who["person_id"])
    with demo_site.api("data_officer") as officer:
        r = officer.post("/tasks/dispatch", json={"month": month})
        assert r.status_code == 200, r.text
        assert (r.json()["field_checks"], r.json()["department_pushes"]) == (1, 1), r.text
    with demo_site.api("province_admin") as admin:
        tasks = admin.get("/tasks", params={"warning_id": warning_id}).json()["items"]
    by_type = {t["task_type"]: t for t in tasks}
    check, push = by_type["field_check"], by_type["department_push"]
    # routed as the policy says: the household's grid (it has a worker), the county's medical insurance
    assert (check["queue_role"], check["queue_region"]) == ("grid_worker", hh["detail"]["grid_code"])
    assert (push["queue_role"], push["queue_region"], push["department"]) == (
        "department_liaison", county, "medical_insurance")
    # queues are shown by the place's name: the grid's, the county's
    assert check["queue_region_name"] and push["queue_region_name"]
    assert not check["queue_region_name"].isdigit() and not push["queue_region_name"].isdigit()
    return {"warning_id": warning_id, "check": check["task_id"], "push": push["task_id"], "month": month,
            "grid_name": check["queue_region_name"]}


def _shot(page, name: str) -> None:  # noqa: ANN001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web_closed_loop-{name}.png"), full_page=True)


def _status(page, status: str) -> None:  # noqa: ANN001
    expect(page.get_by_test_id("task-facts").get_by_test_id(f"task-status-{status}")).to_be_visible()


def _act(page, action: str, status: str) -> None:  # noqa: ANN001
    page.get_by_test_id(f"action-{action}").click()
    _status(page, status)


def _confirm_prompt(page) -> None:  # noqa: ANN001
    box = page.locator(".el-message-box")
    expect(box).to_be_visible()
    box.locator(".el-message-box__btns .el-button--primary").click()


def _pick_date(page, test_id: str, day: dt.date) -> None:  # noqa: ANN001
    box = field(page, test_id)
    box.click()
    box.fill(day.isoformat())
    box.press("Enter")
    expect(box).to_have_value(day.isoformat())


def test_one_warning_around_the_closed_loop(demo_site: DemoSite, loop: dict, new_page):
    check, push = loop["check"], loop["push"]
    given_on = dt.date.today() - dt.timedelta(days=1)  # the server refuses aid dated in the future

    # (a) the grid worker, on a phone: the inbox card, accept, start, "need confirmed" with a photo
    grid = new_page(viewport=PHONE)
    sign_in(grid, demo_site, "e2e_grid")
    grid.get_by_test_id("menu-toggle").click()
    expect(grid.get_by_test_id("menu-badge-tasks")).to_be_visible()  # my open tasks
    grid.get_by_test_id("menu-tasks").click()
    card = grid.get_by_test_id(f"task-{check}")
    expect(card).to_contain_text("入户核查")
    expect(card).to_contain_text("已派发")
    expect(grid.get_by_test_id(f"task-{push}")).to_have_count(0)  # the department's, not the grid's
    expect(grid.get_by_test_id("tile-mine-open").locator(".tile-value")).not_to_have_text("0")
    # the inbox fits a phone: nothing scrolls sideways
    assert grid.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(grid, "a1-grid-inbox-phone")
    expect(card).to_contain_text(loop["grid_name"])  # the queue by name, not by code
    card.click()
    expect(grid.get_by_test_id("task-queue")).to_contain_text(loop["grid_name"])
    expect(grid.get_by_test_id("task-warning")).to_contain_text("medical_oop_large")
    # the buttons are the server's allowed actions: a grid worker may accept or return, never close
    expect(grid.get_by_test_id("action-accept")).to_be_visible()
    expect(grid.get_by_test_id("action-return")).to_be_visible()
    expect(grid.get_by_test_id("action-close")).to_have_count(0)
    _act(grid, "accept", "accepted")
    expect(grid.get_by_test_id("task-assignee")).to_have_text("e2e_grid")
    _act(grid, "start", "verifying")
    form = grid.get_by_test_id("feedback-form")
    form.locator(".el-radio", has_text="确有困难").click()
    field(grid, "fb-notes").fill("住院费用高，家中无劳力（e2e）")
    grid.get_by_test_id("fb-file").set_input_files(
        files=[{"name": "visit.png", "mimeType": "image/png", "buffer": PHOTO}])
    expect(grid.get_by_test_id("fb-file-name")).to_have_text("visit.png")
    _shot(grid, "a2-grid-feedback-form-phone")
    grid.get_by_test_id("fb-submit").click()
    _status(grid, "feedback_given")
    feedback = grid.get_by_test_id("task-feedback")
    expect(feedback.get_by_test_id("feedback-outcome")).to_have_text("确有困难")
    expect(feedback.get_by_test_id("feedback-attachment")).to_have_text("visit.png")
    expect(grid.get_by_test_id("feedback-form")).to_have_count(0)
    assert grid.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(grid, "a3-grid-feedback-given-phone")

    # (b) the county's medical insurance liaison: accept, start, assistance given in yuan
    liaison = new_page()
    sign_in(liaison, demo_site, LIAISON)
    liaison.get_by_test_id("menu-tasks").click()
    expect(liaison.get_by_test_id(f"task-{push}")).to_contain_text("部门推送")
    expect(liaison.get_by_test_id(f"task-{check}")).to_have_count(0)  # a liaison sees its department's only
    _shot(liaison, "b1-liaison-inbox")
    liaison.get_by_test_id(f"task-{push}").click()
    _act(liaison, "accept", "accepted")
    _act(liaison, "start", "verifying")
    form = liaison.get_by_test_id("feedback-form")
    form.locator(".el-radio", has_text="已给予帮扶").click()
    liaison.get_by_test_id("fb-kind").locator(".el-select").click()
    liaison.locator(".el-select-dropdown__item:visible", has_text="医疗救助").click()
    # a bad amount is refused in the form, naming the field
    field(liaison, "fb-amount").fill("12.345")
    _pick_date(liaison, "fb-given-on", given_on)
    liaison.get_by_test_id("fb-submit").click()
    expect(form).to_contain_text("最多两位小数")
    field(liaison, "fb-amount").fill(AMOUNT_YUAN)
    field(liaison, "fb-notes").fill("大病医疗救助（e2e）")
    _shot(liaison, "b2-liaison-feedback-form")
    liaison.get_by_test_id("fb-submit").click()
    _status(liaison, "feedback_given")
    expect(liaison.get_by_test_id("task-feedback").get_by_test_id("feedback-outcome")).to_have_text("已给予帮扶")
    _shot(liaison, "b3-liaison-feedback-given")

    # (c) the township caseworker: told by a notification, reads both feedbacks, closes both tasks
    case = new_page()
    sign_in(case, demo_site, "e2e_caseworker")
    badge = case.get_by_test_id("notify-badge").locator(".el-badge__content")
    expect(badge).to_be_visible()
    assert int(badge.inner_text().rstrip("+")) >= 2  # one per feedback
    case.get_by_test_id("notify-bell").click()
    expect(case.locator(".notify-pop")).to_contain_text(f"任务 #{check}：提交反馈")
    expect(case.locator(".notify-pop")).to_contain_text(f"任务 #{push}：提交反馈")
    _shot(case, "c1-caseworker-notifications")
    case.get_by_test_id("notify-read-all").click()
    expect(badge).to_be_hidden()
    case.keyboard.press("Escape")
    case.get_by_test_id("menu-tasks").click()
    case.get_by_test_id("tasks-scope-region").click()
    expect(case.get_by_test_id(f"task-{check}")).to_be_visible()
    expect(case.get_by_test_id(f"task-{push}")).to_be_visible()
    _shot(case, "c2-caseworker-inbox-region")

    case.get_by_test_id(f"task-{check}").click()
    _status(case, "feedback_given")
    feedback = case.get_by_test_id("task-feedback")
    expect(feedback).to_contain_text("住院费用高")
    attachment = feedback.get_by_test_id("feedback-attachment")
    got = case.request.get(demo_site.url(attachment.get_attribute("href")))
    assert got.status == 200 and got.body() == PHOTO  # the photo comes back to the reviewer
    expect(case.get_by_test_id("task-history")).to_contain_text("e2e_grid")
    _shot(case, "c3-caseworker-field-check")
    case.get_by_test_id("action-close").click()
    _confirm_prompt(case)
    _status(case, "closed")
    expect(case.get_by_test_id("no-actions")).to_be_visible()

    case.goto(demo_site.url(f"/tasks/{push}"))
    expect(case.get_by_test_id("task-feedback")).to_contain_text("大病医疗救助")
    case.get_by_test_id("action-close").click()
    _confirm_prompt(case)
    _status(case, "closed")
    _shot(case, "c4-caseworker-push-closed")

    # the warning lists its tasks, both closed, each linking to its task page
    case.goto(demo_site.url(f"/warnings/{loop['warning_id']}"))
    tasks = case.get_by_test_id("warning-tasks")
    expect(tasks.get_by_test_id(f"warning-task-{check}")).to_be_visible()
    expect(tasks.get_by_test_id(f"warning-task-{push}")).to_be_visible()
    expect(tasks.get_by_test_id("task-status-closed")).to_have_count(2)
    _shot(case, "c5-warning-tasks-closed")

    # the household's chain: the warning, the steps, the feedback and the assistance, and its export
    hh = demo_site.household["household_no"]
    case.goto(demo_site.url(f"/households/{hh}"))
    case.locator("#tab-chain").click()
    chain = case.get_by_test_id("chain-timeline")
    expect(chain).to_contain_text(f"{loop['month']} 预警 medical_oop_large")
    expect(chain).to_contain_text(f"入户核查 #{check}：接收")
    expect(chain).to_contain_text(f"#{push}：办结")
    expect(chain).to_contain_text(f"任务 #{check} 反馈：确有困难")
    expect(chain).to_contain_text(f"医疗救助 {AMOUNT_YUAN} 元")
    # the caseworker records civil affairs' own aid on the same chain (yuan typed, fen sent)
    case.get_by_test_id("chain-record").click()
    case.get_by_test_id("chain-kind").locator(".el-select").click()
    case.locator(".el-select-dropdown__item:visible", has_text="临时救助").click()
    _pick_date(case, "chain-given-on", given_on)
    field(case, "chain-amount").fill("500")
    field(case, "chain-notes").fill("临时救助（e2e）")
    case.get_by_test_id("chain-save").click()
    expect(chain).to_contain_text("临时救助 500.00 元")
    # in date order: the warning (known once its month was over), then the steps, then the feedback
    kinds = chain.locator("[data-test^=chain-]").evaluate_all("els => els.map((e) => e.dataset.test)")
    assert kinds.index("chain-warning") < kinds.index("chain-task") < kinds.index("chain-feedback"), kinds
    export = case.get_by_test_id("chain-export")
    assert re.search(rf"/households/{hh}/chain\.xlsx\?lang=zh$", export.get_attribute("href"))
    _shot(case, "c6-household-chain")

    # the dashboard's closed-loop tiles count them
    case.get_by_test_id("menu-dashboard").click()
    figures = case.get_by_test_id("loop-figures")
    expect(figures).to_be_visible()
    assert int(figures.get_by_test_id("loop-closed").locator(".n").inner_text().replace(",", "")) >= 2
    _shot(case, "c7-dashboard-loop")

    # the routing table the push followed, read-only for a caseworker; the working-day calendar's page
    case.get_by_test_id("menu-routing").click()
    expect(case.get_by_test_id("routing-medical")).to_have_text("医保")
    expect(case.locator("[data-test^=routing-edit-]")).to_have_count(0)  # editing needs routing.admin
    _shot(case, "c8-routing")
    case.get_by_test_id("menu-calendar").click()
    expect(case.get_by_test_id("work-calendar")).to_be_visible()

    # the English switch covers the task page too
    case.goto(demo_site.url(f"/tasks/{check}"))
    case.get_by_test_id("lang-switch").click()
    case.get_by_test_id("lang-en").click()
    expect(case.get_by_test_id("task-facts")).to_contain_text("Field check")
    expect(case.get_by_test_id("task-facts").get_by_test_id("task-status-closed")).to_have_text("Closed")
    outcome = case.get_by_test_id("task-feedback").get_by_test_id("feedback-outcome")
    expect(outcome).to_have_text("Need confirmed")
    expect(case.get_by_test_id("task-history")).to_contain_text("Start verification")
    _shot(case, "c9-task-english")


def test_a_charity_records_the_help_it_gave_and_it_joins_the_chain(demo_site: DemoSite, loop: dict, new_page):
    """A charity does not search the register: it records aid by household number on its own page; the
    township caseworker then sees it on the household's chain."""
    hh = demo_site.household["household_no"]
    county = _county(demo_site.household["detail"])
    with demo_site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": "e2e_charity", "password": E2E_PASSWORD, "role": "charity",
                                       "region_code": county, "display_name": "测试·慈善总会"})
        assert r.status_code in (200, 201), r.text
    demo_site.users["e2e_charity"] = E2E_PASSWORD
    page = new_page()
    sign_in(page, demo_site, "e2e_charity")
    page.get_by_test_id("menu-assistance").click()  # the charity's menu: the dashboard and this page
    field(page, "assistance-household").fill("NO-SUCH-HOUSEHOLD")
    page.get_by_test_id("assistance-kind").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="慈善物资帮扶").click()
    _pick_date(page, "assistance-given-on", dt.date.today() - dt.timedelta(days=2))
    field(page, "assistance-amount").fill("1,000.5")
    page.get_by_test_id("assistance-save").click()
    expect(page.get_by_text("户编号不存在，或不在您的辖区内").first).to_be_visible()
    field(page, "assistance-household").fill(hh)
    page.get_by_test_id("assistance-kind").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="慈善物资帮扶").click()
    field(page, "assistance-amount").fill("1,000.5")
    page.get_by_test_id("assistance-save").click()
    expect(page.get_by_test_id("assistance-saved")).to_be_visible()
    _shot(page, "d1-charity-records")
    with demo_site.api("e2e_caseworker") as case:
        entries = case.get(f"/households/{hh}/chain").json()["entries"]
    aid = [e for e in entries if e["kind"] == "assistance" and e["source_kind"] == "charity"]
    assert aid and aid[-1]["amount_fen"] == 100050 and aid[-1]["source"] == "测试·慈善总会"
