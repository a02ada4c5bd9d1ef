"""Warnings in the web UI (issues 5 + 6) in a real browser against the live demo server: a township
caseworker opens the warnings page, sees only their own township's warnings, opens one and follows
the link to its household, whose page lists the household's warnings.

The warnings are recorded straight into the server's database as the monitoring engine records them
(start_run + record_warnings), for a month after the demo data so that it is the latest one."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, create_engine, select, text

from safetynet.db import make_engine
from safetynet.identity import mask_household_no
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from safetynet.registry.store import households, memberships, persons
from tests.e2e.conftest import PG_URL, SCREENSHOTS, DemoSite, field, sign_in

pytestmark = pytest.mark.slow  # a live server and a browser

MONTH = "2030-01"  # after the demo data: the latest month with a finished run
SCHEMA = pa.schema([("rule", pa.string()), ("id_number", pa.string()), ("person_id", pa.int64()),
                    ("household_id", pa.int64()), ("household_no", pa.string()), ("region_code", pa.string()),
                    ("level", pa.string()), ("need", pa.string()), ("side", pa.string()),
                    ("value", pa.string()), ("evidence", pa.string())])


def _postgres_database(site: DemoSite) -> str:
    """The server's PostgreSQL database: the one of the e2e databases holding an account created just
    now through the server's own API."""
    marker = f"e2e_w_{uuid.uuid4().hex[:8]}"
    with site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": marker, "password": "E2e-Passw0rd!", "role": "auditor",
                                       "region_code": "370000000000"})
        assert r.status_code in (200, 201), r.text
    server = PG_URL.rsplit("/", 1)[0]
    admin_engine = create_engine(server.replace("postgresql://", "postgresql+psycopg://") + "/postgres")
    with admin_engine.connect() as c:
        names = list(c.execute(text("SELECT datname FROM pg_database"
                                    " WHERE datname LIKE 'safetynet_e2e_%'")).scalars())
    admin_engine.dispose()
    for name in names:
        engine = make_engine(f"{server}/{name}")
        try:
            with engine.connect() as c:
                if c.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": marker}).first():
                    return f"{server}/{name}"
        finally:
            engine.dispose()
    raise AssertionError(f"no e2e database holds {marker}")


@pytest.fixture(scope="module")
def server_engine(demo_site: DemoSite) -> Iterator[Engine]:
    url = getattr(demo_site, "database_url", None)
    if url is None:
        url = (_postgres_database(demo_site) if demo_site.database == "postgresql"
               else f"sqlite:///{demo_site.data_dir / 'safetynet.sqlite3'}")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _members(engine: Engine, household_no: str) -> list[dict]:
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(
            select(persons.c.id.label("person_id"), persons.c.id_number,
                   households.c.id.label("household_id"), households.c.household_no, households.c.region_code)
            .join(memberships, memberships.c.person_id == persons.c.id)
            .join(households, households.c.id == memberships.c.household_id)
            .where(households.c.household_no == household_no, memberships.c.valid_to.is_(None))
            .order_by(persons.c.id))]


@pytest.fixture(scope="module")
def warnings_world(demo_site: DemoSite, server_engine: Engine) -> dict:
    """Two warnings in the caseworker's household (township) and one in another township's."""
    own, other = _members(server_engine, demo_site.household["household_no"]), \
        _members(server_engine, demo_site.other_household["household_no"])

    def cand(who: dict, rule: str, level: str, need: str, side: str) -> dict:
        return {"rule": rule, **who, "level": level, "need": need, "side": side, "value": "0.8",
                "evidence": json.dumps([{"feed": "medical", "record_id": f"e2e-{who['person_id']}",
                                         "month": MONTH}])}

    rows = [cand(own[0], "medical_oop_large", "red", "medical", "entry"),
            cand(own[-1], "income_drop", "yellow", "basic_living", "entry"),
            cand(other[0], "recipient_death", "red", "integrity", "exit")]
    run = start_run(server_engine, month=MONTH, engine_name="duckdb", catalogue_digest="e" * 64, actor="e2e")
    record_warnings(server_engine, run_id=run, month=MONTH,
                    candidates=pa.Table.from_pylist(rows, schema=SCHEMA),
                    suppression={"medical_oop_large": 3, "income_drop": 6, "recipient_death": 12})
    finish_run(server_engine, run, seconds=0.1, counts={})
    with demo_site.api("province_admin") as admin:
        items = admin.get("/warnings", params={"month": MONTH, "page_size": 200}).json()["items"]
    by_rule = {(i["rule"], i["person_id"]): i["warning_id"] for i in items}
    return {"own": [by_rule[("medical_oop_large", own[0]["person_id"])],
                    by_rule[("income_drop", own[-1]["person_id"])]],
            "other": by_rule[("recipient_death", other[0]["person_id"])]}


def _screenshot(page, name: str) -> None:  # noqa: ANN001
    """A stage of the walk-through kept as a test artefact (the fixture keeps only the last page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web_warnings-{name}.png"), full_page=True)


def test_caseworker_sees_own_township_warnings_opens_one_and_reaches_the_household(
        demo_site: DemoSite, warnings_world: dict, new_page):
    hh = demo_site.household
    township = demo_site.township[:9]
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    page.get_by_test_id("menu-warnings").click()
    table = page.get_by_test_id("warnings-table")
    for wid in warnings_world["own"]:
        expect(page.get_by_test_id(f"warning-{wid}")).to_be_visible()
    expect(page.get_by_test_id(f"warning-{warnings_world['other']}")).to_have_count(0)
    # every row is in the caseworker's township, and the header counts only them
    rows = table.locator(".el-table__body tr")
    expect(rows).to_have_count(2)
    for row_text in rows.all_inner_texts():  # places by name (county · township · village), no codes
        assert " · " in row_text and not re.search(r"\d{12,}", row_text), row_text
    listed = demo_site.api("e2e_caseworker").get("/warnings").json()["items"]
    assert listed and all(i["region_code"].startswith(township) for i in listed)
    expect(page.get_by_test_id("tile-total")).to_have_text("2")
    expect(page.get_by_test_id("tile-red").locator(".tile-value")).to_have_text("1")
    expect(table.get_by_test_id("level-red")).to_contain_text("红色")
    # the month picker shows the latest month with a finished run
    expect(field(page, "w-month")).to_have_value(MONTH)
    _screenshot(page, "warnings-list")
    # filter by level: only the red one
    page.get_by_test_id("tile-red").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id(f"warning-{warnings_world['own'][0]}")).to_be_visible()

    # the detail: firings, evidence, rule thresholds, and the household link
    page.get_by_test_id(f"warning-{warnings_world['own'][0]}").click()
    detail = page.get_by_test_id("warning-detail")
    expect(page.get_by_test_id("warning-rule")).to_contain_text("医疗自付费用过高")
    expect(page.get_by_test_id("firings-timeline")).to_contain_text(MONTH)
    expect(page.get_by_test_id("evidence-table")).to_contain_text("e2e-")
    expect(page.get_by_test_id("threshold-red")).to_be_visible()
    expect(page.get_by_test_id("rule-card")).to_contain_text("医疗保障局")
    expect(page.get_by_test_id("warning-id-number")).to_have_text(re.compile(r"^\d{6}\*{8}\d{3}[\dX]$"))
    link = page.get_by_test_id("warning-household-link")
    expect(link).to_have_text(mask_household_no(hh["household_no"]))  # masked, and linked all the same
    expect(detail).to_be_visible()
    _screenshot(page, "warning-detail")
    link.click()
    expect(page.get_by_test_id("household-no")).to_have_text(hh["household_no"])
    # the household page lists its warnings
    page.locator("#tab-warnings").click()
    for wid in warnings_world["own"]:
        expect(page.get_by_test_id(f"hh-warning-{wid}")).to_be_visible()
    _screenshot(page, "household-warnings")

    # another township's warning answers like a missing one
    page.goto(demo_site.url(f"/warnings/{warnings_world['other']}"))
    expect(page.get_by_test_id("not-found-page")).to_contain_text("不在您的辖区内")


def test_the_detail_read_is_in_the_audit_log(demo_site: DemoSite, warnings_world: dict):
    wid = str(warnings_world["own"][1])
    with demo_site.api("e2e_caseworker") as caseworker:
        assert caseworker.get(f"/warnings/{wid}").status_code == 200
    with demo_site.api("auditor") as auditor:
        rows = auditor.get("/audit", params={"actor": "e2e_caseworker", "object_type": "warning",
                                             "object_id": wid}).json()["items"]
    assert rows and rows[0]["action"] == "read" and rows[0]["purpose"] == "warning detail"
