"""Registry read API (issue 6): search, detail, masking, region scope, unmask and sensitive
reads audited. Runs on SQLite and PostgreSQL through the real app with signed-in users."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from safetynet.audit.store import audit_log
from safetynet.registry import service
from tests.conftest import TEST_PASSWORD
from tests.factories import TODAY, make_id, sample_register, write_register

TOWNSHIP = "370402001000"        # the sample register's households H001–H003 live here
OTHER_TOWNSHIP = "370402002000"  # same county, another township
OTHER_VILLAGE = "370402002001"


def _register(tmp_path, engine) -> None:  # noqa: ANN001
    """The sample register plus one household in another township (H900)."""
    h, p = sample_register()
    h.append(["H900", OTHER_VILLAGE, "rural", "北村9号", "", ""])
    p.append(["H900", make_id("1950-03-03", 91, sex="M"), "张老汉", "M", "1950-03-03", "head", "dibao",
              "2024-05-01", "", "", "500.00"])
    service.import_register(engine, directory=write_register(tmp_path / "reg", h, p), as_of=TODAY)


@pytest.fixture
def app_engine(engine, tmp_path):  # noqa: ANN001
    _register(tmp_path, engine)
    return engine


def _audit_rows(engine) -> list[dict]:  # noqa: ANN001
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(audit_log).order_by(audit_log.c.id))]


def _person_id(engine, name: str) -> int:  # noqa: ANN001
    from safetynet.registry import store

    with engine.connect() as c:
        return c.execute(select(store.persons.c.id).where(store.persons.c.name == name)).scalar_one()


def test_requires_sign_in(app_engine, client_as):
    r = client_as.anonymous().get("/api/v1/households")
    assert r.status_code == 401 and r.json()["code"] == "not_signed_in"


def test_search_by_each_criterion_and_masked_items(app_engine, client_as):
    c = client_as("county_admin", "370402000000")

    def nos(**params) -> list[str]:  # noqa: ANN003
        r = c.get("/api/v1/households", params=params)
        assert r.status_code == 200, r.text
        return [i["household_no"] for i in r.json()["items"]]

    assert nos() == ["H001", "H002", "H003", "H900"]
    assert nos(name="张") == ["H001", "H900"]            # prefix, any member
    assert nos(name="赵小红") == ["H003"]                 # exact name of a non-head member
    assert nos(name="赵小") == ["H003"]
    assert nos(name="钱") == []
    full = make_id("1940-05-06", 21, sex="F")
    assert nos(id_number=full) == ["H002"]
    assert nos(id_number=full[-4:]) == ["H002"]
    assert nos(id_number=f" {full[:9]} {full[9:]} ") == ["H002"]  # spaces pasted in are ignored
    assert nos(region="370402001201") == ["H003"]
    assert nos(region=OTHER_TOWNSHIP) == ["H900"]
    assert nos(tier="dibao") == ["H001", "H900"]
    assert nos(tier="dibao_edge") == ["H003"]
    assert nos(tier="dibao", region=TOWNSHIP) == ["H001"]
    assert nos(name="张", tier="dibao", region=OTHER_TOWNSHIP) == ["H900"]
    assert nos(q="H002") == ["H002"]
    assert nos(q="赵") == ["H003"]
    assert nos(q=full[-4:]) == ["H002"]

    item = c.get("/api/v1/households", params={"q": "H001"}).json()["items"][0]
    assert item == {
        "household_no": "H001", "region_code": "370402001001", "region_name": item["region_name"],
        "head_name": "张**", "head_id_number": make_id("1975-04-02", 11, sex="M")[:6] + "********"
        + make_id("1975-04-02", 11, sex="M")[-4:],
        "members": 3, "tier": "dibao", "tier_label": "低保", "registration": "urban",
        "registration_label": "城镇",
    }
    assert item["region_name"].endswith("社区")
    body = json.dumps(c.get("/api/v1/households").json(), ensure_ascii=False)
    assert "张建国" not in body and make_id("1975-04-02", 11, sex="M") not in body


def test_bad_search_input_names_the_field(app_engine, client_as):
    c = client_as("county_admin", "370402000000")
    for params, field in [({"id_number": "12345"}, "id_number"), ({"tier": "rich"}, "tier"),
                          ({"name": "张%"}, "name"), ({"region": "37x"}, "region"),
                          ({"page_size": 500}, "page_size"), ({"page": 0}, "page")]:
        r = c.get("/api/v1/households", params=params)
        assert r.status_code in (400, 422), (params, r.text)
        body = r.json()
        assert body["code"] == "invalid" and body["field"] == field, body
        assert body["message"] and body["message_zh"]


def test_pagination_totals(app_engine, client_as):
    c = client_as("province_admin", "370000000000")
    seen = []
    for page in (1, 2, 3):
        r = c.get("/api/v1/households", params={"page": page, "page_size": 2}).json()
        assert r["total"] == 4 and r["page"] == page and r["page_size"] == 2
        seen += [i["household_no"] for i in r["items"]]
    assert seen == ["H001", "H002", "H003", "H900"]
    assert c.get("/api/v1/households", params={"tier": "dibao", "page_size": 1}).json()["total"] == 2


def test_out_of_region_household_is_404_and_never_listed(app_engine, client_as):
    c = client_as("township_caseworker", TOWNSHIP)
    listed = c.get("/api/v1/households", params={"page_size": 200}).json()
    assert [i["household_no"] for i in listed["items"]] == ["H001", "H002", "H003"]
    assert listed["total"] == 3
    # not by name, id, region, or free text either
    assert c.get("/api/v1/households", params={"name": "张老汉"}).json()["total"] == 0
    far_id = make_id("1950-03-03", 91, sex="M")
    assert c.get("/api/v1/households", params={"id_number": far_id}).json()["total"] == 0
    assert c.get("/api/v1/households", params={"q": "H900"}).json()["total"] == 0
    outside = c.get("/api/v1/households", params={"region": OTHER_TOWNSHIP})
    assert outside.status_code == 404
    # by id: exactly the answer a missing household gets, so its existence does not leak
    far, missing = c.get("/api/v1/households/H900"), c.get("/api/v1/households/NOPE")
    assert far.status_code == missing.status_code == 404
    assert far.json() == missing.json()
    far_person = _person_id(app_engine, "张老汉")
    assert c.get(f"/api/v1/persons/{far_person}").json() == c.get("/api/v1/persons/999999").json()
    assert c.post(f"/api/v1/persons/{far_person}/unmask", json={"purpose": "入户核查"}).status_code == 404
    assert c.get("/api/v1/registry/summary").json()["persons_by_tier"] == {
        "dibao": 4, "extremely_poor": 1, "dibao_edge": 1}


def test_household_detail_masked_with_history_and_path(app_engine, client_as, tmp_path):
    c = client_as("grid_worker", "370402001001")  # bound to the village
    d = c.get("/api/v1/households/H001")
    assert d.status_code == 200, d.text
    d = d.json()
    assert d["tier"] == "dibao" and d["tier_label"] == "低保"
    assert [m["name"] for m in d["members"]] == ["张**", "李**", "张*"]
    assert all("*" in m["id_number"] and len(m["id_number"]) == 18 for m in d["members"])
    assert [r["level"] for r in d["region_path"]] == ["province", "city", "county", "township", "village"]
    assert d["region_path"][0]["name"] == "山东省"
    assert d["tier_history"] == [{"tier": "dibao", "tier_label": "低保", "since": "2024-03-01",
                                  "until": None}]
    assert "sensitive" not in d and "monthly_benefit_fen" not in json.dumps(d)
    assert d["versions"] == [{"version": 1, "import_id": 1, "superseded_at": None, "changed_fields": []}]
    # a grid worker reads no sensitive block, so nothing is audited for this read
    assert [r for r in _audit_rows(app_engine) if r["object_type"] == "household"] == []


def test_household_history_after_a_change(app_engine, client_as, tmp_path):
    import copy
    import datetime as dt

    h, p = sample_register()
    h2, p2 = copy.deepcopy(h), copy.deepcopy(p)
    h2[2][3] = "新地址1号"
    p2[4][6], p2[4][7] = "dibao", "2025-08-01"    # H003 becomes a dibao household
    service.import_register(app_engine, directory=write_register(tmp_path / "b", h2, p2),
                            as_of=dt.date(2025, 9, 1), partial=True)
    c = client_as("township_caseworker", TOWNSHIP)
    d = c.get("/api/v1/households/H003").json()
    assert d["tier"] == "dibao"
    assert [(t["tier"], t["since"], t["until"]) for t in d["tier_history"]] == [
        ("dibao", "2025-08-01", None), ("dibao_edge", "2025-01-01", "2025-08-01")]
    assert [v["version"] for v in d["versions"]] == [1, 2]
    assert d["versions"][1]["changed_fields"] == ["address"]
    assert "新地址1号" not in json.dumps(d["versions"], ensure_ascii=False)
    pid = _person_id(app_engine, "赵明")
    person = c.get(f"/api/v1/persons/{pid}").json()
    assert person["name"] == "赵*" and person["household_no"] == "H003"
    assert [t["tier"] for t in person["tier_history"]] == ["dibao", "dibao_edge"]


def test_sensitive_block_needs_capability_and_is_audited(app_engine, client_as):
    sees = client_as("township_caseworker", TOWNSHIP)     # has registry.sensitive
    blind = client_as("data_officer", "370000000000")      # registry.read only
    before = len(_audit_rows(app_engine))
    d = sees.get("/api/v1/households/H002").json()
    assert d["sensitive"]["members"] == [{"person_id": d["members"][0]["person_id"],
                                          "monthly_benefit_fen": 135500, "support_form": "dispersed",
                                          "care_level": "partial"}]
    rows = _audit_rows(app_engine)[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row["action"], row["object_type"], row["object_id"], row["result"]) == (
        "read", "household", "H002", "ok")
    assert json.loads(row["fields"]) == ["care_level", "monthly_benefit_fen", "support_form"]
    assert "135500" not in json.dumps(row, default=str) and "1355" not in json.dumps(row, default=str)

    before = len(_audit_rows(app_engine))
    plain = blind.get("/api/v1/households/H002").json()
    assert "sensitive" not in plain and "135500" not in json.dumps(plain)
    pid = plain["members"][0]["person_id"]
    person = blind.get(f"/api/v1/persons/{pid}").json()
    assert "sensitive" not in person
    assert len(_audit_rows(app_engine)) == before
    sens_person = sees.get(f"/api/v1/persons/{pid}").json()
    assert sens_person["sensitive"]["tiers"][0]["monthly_benefit_fen"] == 135500
    assert _audit_rows(app_engine)[-1]["object_type"] == "person"


def test_unmask_audited_once_with_purpose_and_no_values(app_engine, client_as):
    c = client_as("township_caseworker", TOWNSHIP)
    pid = _person_id(app_engine, "王桂兰")
    full = make_id("1940-05-06", 21, sex="F")
    missing_purpose = c.post(f"/api/v1/persons/{pid}/unmask", json={})
    assert missing_purpose.status_code == 400 and missing_purpose.json()["field"] == "purpose"
    before = len(_audit_rows(app_engine))
    r = c.post(f"/api/v1/persons/{pid}/unmask", json={"purpose": "入户核查需要核对身份证"})
    assert r.status_code == 200, r.text
    assert r.json() == {"person_id": pid, "id_number": full, "name": "王桂兰"}
    rows = _audit_rows(app_engine)[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row["action"], row["object_type"], row["object_id"], row["result"]) == (
        "unmask", "person", str(pid), "ok")
    assert json.loads(row["fields"]) == ["id_number", "name"]
    assert row["purpose"] == "入户核查需要核对身份证"
    flat = json.dumps(row, default=str, ensure_ascii=False)
    assert full not in flat and "王桂兰" not in flat and full[-4:] not in flat


def test_unmask_needs_the_capability(app_engine, client_as):
    c = client_as("grid_worker", "370402001001")
    pid = _person_id(app_engine, "王桂兰")
    r = c.post(f"/api/v1/persons/{pid}/unmask", json={"purpose": "入户核查"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert not [row for row in _audit_rows(app_engine) if row["action"] == "unmask"]


def test_grid_worker_bound_to_a_grid_sees_only_that_grid(app_engine, client_as):
    c = client_as("grid_worker", "37040200100101")  # H001's grid
    assert [i["household_no"] for i in c.get("/api/v1/households").json()["items"]] == ["H001"]
    assert c.get("/api/v1/households/H002").status_code == 404   # same village, other grid
    assert c.get("/api/v1/households/H001").status_code == 200


def test_search_counts_up_to_the_cap_and_pages_only_through_it(app_engine, client_as, monkeypatch):
    from safetynet.registry import search

    monkeypatch.setattr(search, "TOTAL_CAP", 2)
    c = client_as("province_admin", "370000000000")
    first = c.get("/api/v1/households", params={"page_size": 1}).json()
    assert (first["total"], first["total_capped"]) == (2, True)   # 4 households: "2+"
    assert [i["household_no"] for i in first["items"]] == ["H001"]
    second = c.get("/api/v1/households", params={"page": 2, "page_size": 1})
    assert second.status_code == 200 and second.json()["items"][0]["household_no"] == "H002"
    beyond = c.get("/api/v1/households", params={"page": 3, "page_size": 1})
    assert beyond.status_code == 400, beyond.text
    assert beyond.json()["field"] == "page" and "narrow" in beyond.json()["message"]
    # exactly as many as the cap is not "more": the count looks one past it
    exact = c.get("/api/v1/households", params={"tier": "dibao", "page_size": 1}).json()
    assert (exact["total"], exact["total_capped"]) == (2, False)
    one = c.get("/api/v1/households", params={"name": "张老汉"}).json()
    assert (one["total"], one["total_capped"], len(one["items"])) == (1, False, 1)


def test_totals_of_a_last_page_and_of_a_page_past_the_end(app_engine, client_as):
    c = client_as("province_admin", "370000000000")
    last = c.get("/api/v1/households", params={"page": 2, "page_size": 3}).json()
    assert (last["total"], len(last["items"])) == (4, 1)
    past = c.get("/api/v1/households", params={"page": 5, "page_size": 3}).json()
    assert (past["total"], past["items"]) == (4, [])


def test_a_sensitive_read_is_not_answered_when_its_audit_row_cannot_be_written(app_engine, client_as,
                                                                               monkeypatch):
    from fastapi.testclient import TestClient

    from safetynet.registry import api

    def broken(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("audit log unavailable")

    name = client_as.user("township_caseworker", TOWNSHIP)
    client = TestClient(client_as.app, raise_server_exceptions=False)
    login = client.post("/api/v1/auth/login", json={"username": name, "password": TEST_PASSWORD})
    assert login.status_code == 200
    monkeypatch.setattr(api, "audit_record", broken)
    r = client.get("/api/v1/households/H002")
    assert r.status_code == 500
    assert "monthly_benefit_fen" not in r.text and "135500" not in r.text
