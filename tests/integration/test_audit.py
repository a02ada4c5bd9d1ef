"""The audit log (issue 6): append-only in the database itself, and each endpoint that
signs in, changes accounts or returns sensitive fields adds exactly the expected rows
(field names and purpose, never the values)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from safetynet.audit import service as audit
from safetynet.audit.store import audit_log
from safetynet.auth import service as auth_service
from safetynet.errors import SafetynetError
from safetynet.registry import service as registry_service
from safetynet.registry.store import persons
from tests.conftest import TEST_PASSWORD
from tests.factories import TODAY, VILLAGE, make_id, sample_register, write_register


def _rows(engine, after: int = 0) -> list[dict]:  # noqa: ANN001
    """Audit rows after `after`, without the seeding of the working-day calendar that every new
    database starts with (tests/integration/test_workdays.py checks those)."""
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(
            select(audit_log).where(audit_log.c.id > after, audit_log.c.actor != "system:calendar-seed")
            .order_by(audit_log.c.id))]


def _last_id(engine) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one()


def test_audit_log_refuses_update_and_delete(engine):
    audit.record(engine, actor="someone", action="read", object_type="household", object_id="H001",
                 fields=["income"], purpose="家访核实")
    before = _rows(engine)
    assert len(before) == 1 and before[0]["fields"] == '["income"]'
    for statement in (update(audit_log).values(purpose="changed"), delete(audit_log),
                      text("UPDATE audit_log SET actor = 'x'"), text("DELETE FROM audit_log")):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(statement)
    assert _rows(engine) == before


def test_record_checks_action_and_result(engine):
    with pytest.raises(SafetynetError, match="action must be one of"):
        audit.record(engine, actor="x", action="peek", object_type="household")
    with pytest.raises(SafetynetError, match="result must be one of"):
        audit.record(engine, actor="x", action="read", object_type="household", result="maybe")
    assert _rows(engine) == []


def test_record_inside_a_failed_transaction_is_rolled_back_with_it(engine):
    with pytest.raises(RuntimeError), engine.begin() as c:
        audit.record(None, conn=c, actor="x", action="write", object_type="user", object_id="u")
        raise RuntimeError("the change failed")
    assert _rows(engine) == []


def test_sign_in_attempts_are_audited_one_row_each(client_as):
    engine = client_as.engine
    name = client_as.user("grid_worker", "370102001000")
    start = _last_id(engine)
    client = client_as.anonymous()
    client.post("/api/v1/auth/login", json={"username": name, "password": "Wrong@2026pw"})
    client.post("/api/v1/auth/login", json={"username": "ghost", "password": "Wrong@2026pw"})
    client.post("/api/v1/auth/login", json={"username": name, "password": TEST_PASSWORD})
    client.post("/api/v1/auth/logout")
    rows = _rows(engine, start)
    assert [(r["action"], r["actor"], r["result"], r["detail"]) for r in rows] == [
        ("login", name, "denied", "bad_password"),
        ("login", "ghost", "denied", "unknown_user"),
        ("login", name, "ok", "ok"),
        ("logout", name, "ok", None),
    ]
    assert rows[0]["actor_region"] == "370102001000" and rows[1]["actor_region"] is None
    assert not any("Wrong@2026pw" in str(r) or TEST_PASSWORD in str(r) for r in rows)


def test_lockout_is_audited(client_as):
    from safetynet.config import get_settings

    engine = client_as.engine
    name = client_as.user("grid_worker", "370102001000")
    start = _last_id(engine)
    client = client_as.anonymous()
    for _ in range(get_settings().login_lockout_attempts + 1):
        client.post("/api/v1/auth/login", json={"username": name, "password": "Wrong@2026pw"})
    details = [r["detail"] for r in _rows(engine, start)]
    n = get_settings().login_lockout_attempts
    assert details == ["bad_password"] * (n - 1) + ["bad_password,locked_out", "locked"]


def test_user_administration_is_audited_without_values(client_as):
    engine = client_as.engine
    admin = client_as("county_admin", "370102")
    start = _last_id(engine)
    r = admin.post("/api/v1/users", json={"username": "worker1", "password": "Secret2026pw",
                                          "role": "grid_worker", "region_code": "370102001001"})
    assert r.status_code == 201
    assert admin.patch("/api/v1/users/worker1", json={"display_name": "李网格", "password": "Other2026pw"}
                       ).status_code == 200
    unchanged = admin.patch("/api/v1/users/worker1", json={"display_name": "李网格"})
    assert unchanged.status_code == 200  # nothing changed: no row
    # a refused create (name taken) leaves no row
    assert admin.post("/api/v1/users", json={"username": "worker1", "password": "Secret2026pw",
                                             "role": "grid_worker", "region_code": "370102001001"}
                      ).status_code == 409
    rows = _rows(engine, start)
    assert [(r["action"], r["object_type"], r["object_id"], r["detail"], r["actor"]) for r in rows] == [
        ("write", "user", "worker1", "create", admin.username),
        ("write", "user", "worker1", "update", admin.username),
    ]
    assert rows[1]["fields"] == '["display_name", "password"]'
    assert not any(secret in str(rows) for secret in ("Secret2026pw", "Other2026pw", "李网格"))


def test_a_missing_capability_is_audited_as_denied(client_as):
    engine = client_as.engine
    worker = client_as("grid_worker", "370102001000")
    start = _last_id(engine)
    assert worker.get("/api/v1/audit").status_code == 403
    (row,) = _rows(engine, start)
    assert (row["action"], row["result"], row["object_id"], row["detail"]) == (
        "denied", "denied", "GET /api/v1/audit", "missing audit.read")


@pytest.fixture
def register(client_as, tmp_path):  # noqa: ANN001
    files = write_register(tmp_path / "r", *sample_register())
    registry_service.import_register(client_as.engine, directory=files, as_of=TODAY)
    with client_as.engine.connect() as c:
        return dict(c.execute(select(persons.c.name, persons.c.id)).all())


def test_sensitive_reads_and_unmasking_add_exactly_one_row_each(client_as, register):
    engine = client_as.engine
    township = VILLAGE[:9] + "000"
    caseworker = client_as("township_caseworker", township)  # has registry.sensitive and .unmask
    grid = client_as("grid_worker", VILLAGE + "01")          # masked reads only
    pid = register["张建国"]
    start = _last_id(engine)
    assert caseworker.get("/api/v1/households/H001").status_code == 200
    assert caseworker.get(f"/api/v1/persons/{pid}").status_code == 200
    assert grid.get("/api/v1/households/H001").status_code == 200
    assert caseworker.get("/api/v1/households?page_size=5").status_code == 200  # masked search: no row
    unmasked = caseworker.post(f"/api/v1/persons/{pid}/unmask", json={"purpose": "入户核查"})
    assert unmasked.status_code == 200
    no_purpose = caseworker.post(f"/api/v1/persons/{pid}/unmask", json={})
    assert no_purpose.status_code == 400 and no_purpose.json()["field"] == "purpose"
    rows = _rows(engine, start)
    assert [(r["actor"], r["action"], r["object_type"], r["object_id"]) for r in rows] == [
        (caseworker.username, "read", "household", "H001"),
        (caseworker.username, "read", "person", str(pid)),
        (caseworker.username, "unmask", "person", str(pid)),
    ]
    assert rows[2]["purpose"] == "入户核查" and rows[2]["fields"] == '["id_number", "name"]'
    identity = unmasked.json()["id_number"]
    assert not any(identity in str(r) or "张建国" in str(r) for r in rows)


def test_audit_search_filters_pages_and_stays_in_region(client_as):
    engine = client_as.engine
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    here = client_as("auditor", "370102")
    me = auth_service.resolve_session(engine, here.cookies.get("safetynet_session"))
    for i in range(5):
        audit.record(engine, actor=me, action="read", object_type="household", object_id=f"H{i}",
                     at=t0 + dt.timedelta(days=i))
    province = auth_service.login(engine, username=client_as.user("auditor", "37"), password=TEST_PASSWORD)[1]
    audit.record(engine, actor=province, action="read", object_type="household", object_id="H9", at=t0)
    page = here.get("/api/v1/audit", params={"object_type": "household", "page_size": 2}).json()
    assert page["total"] == 5 and [r["object_id"] for r in page["items"]] == ["H4", "H3"]
    assert here.get("/api/v1/audit", params={"object_type": "household", "page": 3, "page_size": 2}
                    ).json()["items"][0]["object_id"] == "H0"
    window = here.get("/api/v1/audit", params={"from": "2026-05-02T00:00:00Z", "to": "2026-05-04T00:00:00Z",
                                               "object_type": "household"}).json()
    assert [r["object_id"] for r in window["items"]] == ["H2", "H1"]
    assert here.get("/api/v1/audit", params={"object_id": "H9"}).json()["total"] == 0  # not in region
    assert here.get("/api/v1/audit", params={"actor": here.username, "action": "login"}).json()["total"] == 1
    bad = here.get("/api/v1/audit", params={"from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["field"] == "from"


def test_a_search_by_a_whole_identity_number_is_audited(client_as, register):
    """Issue 15, item 10: whether a given person is in the register is personal data; a search by
    a full identity number (field or free text) writes a row naming the field, not the number.
    Searches by the last 4 characters or by name do not."""
    engine = client_as.engine
    with engine.connect() as c:
        number = c.execute(select(persons.c.id_number).where(persons.c.id == register["张建国"])).scalar_one()
    grid = client_as("grid_worker", VILLAGE + "01")
    start = _last_id(engine)
    for params in ({"id_number": number}, {"q": number}, {"q": number[:6] + " " + number[6:]},
                   {"id_number": number[-4:]}, {"name": "张建国"}, {"q": "张建"}):
        r = grid.get("/api/v1/households", params=params)
        assert r.status_code == 200, (params, r.text)
    unknown = make_id("1950-01-01", 99)  # a valid number no one in the register has: a probe, audited too
    assert grid.get("/api/v1/households", params={"id_number": unknown}).json()["total"] == 0
    rows = _rows(engine, start)
    got = [(r["actor"], r["action"], r["object_type"], r["fields"], r["purpose"], r["detail"]) for r in rows]
    assert got == [
        (grid.username, "read", "household_search", '["id_number"]', "household search by full id number",
         found) for found in ("1 found", "1 found", "1 found", "0 found")]
    assert not any(number in str(r) or number[-4:] in str(r) or "张建国" in str(r) for r in rows)
