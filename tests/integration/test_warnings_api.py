"""Warnings API (issues 5 + 6): a month's list scoped to the reader's region (a grid worker: their grid;
a department liaison: the needs pushed to their department), counts, one warning with every month it
fired (audited), monitor runs. Warnings are recorded as the engine records them (start_run +
record_warnings), through the real app with signed-in users, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from safetynet.audit.store import audit_log
from safetynet.monitoring.store import warnings
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from tests.factories import TODAY, VILLAGE, make_id, sample_register, write_register

API = "/api/v1/warnings"
TOWNSHIP = "370402001000"        # H001–H003 (the sample register)
GRID_1 = VILLAGE + "01"          # H001's grid; H002 is in grid 2
OTHER_VILLAGE = "370402002001"   # another township of the same county: H900
UNREGISTERED_ID = make_id("1988-06-06", 77, sex="F")  # known to the feeds only, lives in VILLAGE
SUPPRESSION = {"medical_oop_large": 3, "recipient_death": 12, "income_drop": 6, "asset_car": 12,
               "hotline_help": 3, "new_unemployment": 6}
SCHEMA = pa.schema([("rule", pa.string()), ("id_number", pa.string()), ("person_id", pa.int64()),
                    ("household_id", pa.int64()), ("household_no", pa.string()), ("region_code", pa.string()),
                    ("level", pa.string()), ("need", pa.string()), ("side", pa.string()),
                    ("value", pa.string()), ("evidence", pa.string())])


def _evidence(feed: str, record_id: str, month: str) -> str:
    return json.dumps([{"feed": feed, "record_id": record_id, "month": month}])


def _record(engine, month: str, rows: list[dict], *, finish: bool = True, counts: dict | None = None) -> int:  # noqa: ANN001
    run = start_run(engine, month=month, engine_name="duckdb", catalogue_digest="d" * 64, actor="test")
    record_warnings(engine, run_id=run, month=month, candidates=pa.Table.from_pylist(rows, schema=SCHEMA),
                    suppression=SUPPRESSION)
    if finish:
        finish_run(engine, run, seconds=1.5, peak_rss_bytes=300 * 2**20,
                   counts=counts or {"created": len(rows)})
    return run


@pytest.fixture
def world(engine, tmp_path):  # noqa: ANN001
    """The sample register plus H900 in another township, and warnings over three months: 2026-01 and
    2026-02 finished, 2026-03 still running. Returns {name: {person_id, household_id, id_number, ...}}
    and the warning ids by key."""
    h, p = sample_register()
    h.append(["H900", OTHER_VILLAGE, "rural", "北村9号", "", ""])
    p.append(["H900", make_id("1950-03-03", 91, sex="M"), "张老汉", "M", "1950-03-03", "head", "dibao",
              "2024-05-01", "", "", "500.00"])
    registry_service.import_register(engine, directory=write_register(tmp_path / "reg", h, p), as_of=TODAY)
    hh, pp, m = registry_store.households, registry_store.persons, registry_store.memberships
    with engine.connect() as c:
        people = {r.name: dict(r._mapping) for r in c.execute(
            select(pp.c.name, pp.c.id.label("person_id"), pp.c.id_number, hh.c.id.label("household_id"),
                   hh.c.household_no, hh.c.region_code)
            .join(m, m.c.person_id == pp.c.id).join(hh, hh.c.id == m.c.household_id))}

    def cand(rule: str, name: str, level: str, need: str, side: str, value: str, month: str,
             feed: str = "medical") -> dict:
        who = people[name]
        return {"rule": rule, "id_number": who["id_number"], "person_id": who["person_id"],
                "household_id": who["household_id"], "household_no": who["household_no"],
                "region_code": who["region_code"], "level": level, "need": need, "side": side, "value": value,
                "evidence": _evidence(feed, f"{feed}-{who['person_id']}-{month}", month)}

    _record(engine, "2026-01", [
        cand("medical_oop_large", "张建国", "yellow", "medical", "entry", "0.35", "2026-01"),
        cand("recipient_death", "王桂兰", "red", "integrity", "exit", "died 2026-01-12", "2026-01", "death"),
        cand("income_drop", "张老汉", "orange", "basic_living", "entry", "-40%", "2026-01",
             "social_insurance"),
    ])
    _record(engine, "2026-02", [
        cand("medical_oop_large", "张建国", "orange", "medical", "entry", "0.55", "2026-02"),
        cand("asset_car", "赵明", "orange", "integrity", "exit", "car 2026-02", "2026-02", "vehicle"),
        cand("income_drop", "张老汉", "red", "basic_living", "entry", "-60%", "2026-02", "social_insurance"),
        {"rule": "hotline_help", "id_number": UNREGISTERED_ID, "person_id": None, "household_id": None,
         "household_no": None, "region_code": VILLAGE, "level": "blue", "need": "basic_living",
         "side": "entry", "value": "1", "evidence": _evidence("hotline_12345", "call-1", "2026-02")},
    ], counts={"by_rule": {"medical_oop_large": 1}, "by_region": {VILLAGE: 3, "370402001201": 1,
                                                                   OTHER_VILLAGE: 1, "370102001001": 9}})
    _record(engine, "2026-03", [cand("new_unemployment", "赵小红", "yellow", "employment", "entry", "1",
                                     "2026-03", "unemployment")], finish=False)
    with engine.connect() as c:
        ids = {(r.rule, r.id_number): r.id for r in c.execute(select(warnings.c.id, warnings.c.rule,
                                                                      warnings.c.id_number))}
    key = {"medical": ids[("medical_oop_large", people["张建国"]["id_number"])],
           "death": ids[("recipient_death", people["王桂兰"]["id_number"])],
           "other": ids[("income_drop", people["张老汉"]["id_number"])],
           "car": ids[("asset_car", people["赵明"]["id_number"])],
           "hotline": ids[("hotline_help", UNREGISTERED_ID)],
           "running": ids[("new_unemployment", people["赵小红"]["id_number"])]}
    return people, key


def _ids(r) -> list[int]:  # noqa: ANN001
    assert r.status_code == 200, r.text
    return [i["warning_id"] for i in r.json()["items"]]


def _audit(engine) -> list[dict]:  # noqa: ANN001
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(audit_log).order_by(audit_log.c.id))]


def test_list_defaults_to_the_latest_finished_month_in_the_region_most_severe_first(client_as, world):
    people, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    r = caseworker.get(API)
    body = r.json()
    assert body["month"] == "2026-02"  # 2026-03's run has not finished
    # orange before blue; of two oranges the newer warning first; H900's (another township) never
    assert _ids(r) == [w["car"], w["medical"], w["hotline"]] and body["total"] == 3
    medical = body["items"][1]
    jianguo = people["张建国"]
    expected = {
        "warning_id": w["medical"], "rule": "medical_oop_large",
        "rule_name_zh": "医疗自付费用过高（因病致贫风险）",
        "rule_name_en": "Large medical out-of-pocket costs", "need": "medical", "side": "entry",
        "level": "orange", "status": "new", "month": "2026-02", "raised_month": "2026-01",
        "last_month": "2026-02", "fired_months": 2, "value": "0.55",
        "id_number": jianguo["id_number"][:6] + "********" + jianguo["id_number"][-4:], "name": "张**",
        "person_id": jianguo["person_id"], "household_id": jianguo["household_id"], "household_no": "****",
        "region_code": VILLAGE}
    assert {k: medical[k] for k in expected} == expected
    # ... and the place by name, the value in words (tests/integration/test_warning_names.py)
    assert {"region_name", "region_path", "grid_code", "grid_name", "value_label"} <= medical.keys()
    # the person known only to the feeds: no name, no household
    assert body["items"][2]["name"] is None and body["items"][2]["household_no"] is None
    assert not any(jianguo["id_number"] in json.dumps(i) for i in body["items"])
    # a month's level and value are that month's
    jan = caseworker.get(API, params={"month": "2026-01"}).json()
    assert [(i["warning_id"], i["level"], i["value"]) for i in jan["items"]] == [
        (w["death"], "red", "died 2026-01-12"), (w["medical"], "yellow", "0.35")]
    assert _ids(caseworker.get(API, params={"month": "2026-03"})) == [w["running"]]  # asked for: shown
    assert _ids(caseworker.get(API, params={"month": "2025-12"})) == []


def test_household_numbers_are_masked_like_the_register_does(client_as, world, engine):
    people, w = world
    long_no = "370402197504021234"  # household numbers that are the head's id number
    with engine.begin() as c:
        c.execute(warnings.update().where(warnings.c.id == w["car"]).values(household_no=long_no))
    items = client_as("county_admin", "370402").get(API).json()["items"]
    assert {i["warning_id"]: i["household_no"] for i in items}[w["car"]] == "370402********1234"


def test_a_county_sees_every_township_and_the_province_everything(client_as, world):
    _, w = world
    assert _ids(client_as("county_admin", "370402").get(API)) == [w["other"], w["car"], w["medical"],
                                                                   w["hotline"]]
    assert _ids(client_as("province_admin", "37").get(API, params={"region": OTHER_VILLAGE})) == [w["other"]]
    assert _ids(client_as("city_admin", "3701").get(API)) == []  # Jinan: none of these


def test_region_filter_narrows_and_never_widens(client_as, world):
    _, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    assert _ids(caseworker.get(API, params={"region": "370402001201"})) == [w["car"]]
    for outside in ("370402", OTHER_VILLAGE, "3701"):
        r = caseworker.get(API, params={"region": outside})
        assert r.status_code == 404 and r.json()["code"] == "not_found", outside
    r = caseworker.get(API, params={"region": "37x"})
    assert r.status_code == 400 and r.json()["field"] == "region"


def test_filters_and_their_validation(client_as, world, engine):
    _, w = world
    county = client_as("county_admin", "370402")
    assert _ids(county.get(API, params={"rule": "asset_car"})) == [w["car"]]
    assert _ids(county.get(API, params={"level": "red"})) == [w["other"]]
    assert _ids(county.get(API, params={"level": "yellow"})) == []  # medical was yellow in January only
    assert _ids(county.get(API, params={"need": "basic_living"})) == [w["other"], w["hotline"]]
    assert _ids(county.get(API, params={"side": "exit"})) == [w["car"]]
    with engine.begin() as c:
        c.execute(warnings.update().where(warnings.c.id == w["medical"]).values(status="verifying"))
    assert _ids(county.get(API, params={"status": "verifying"})) == [w["medical"]]
    assert _ids(county.get(API, params={"status": "new", "need": "medical"})) == []
    for field, value in (("level", "purple"), ("month", "2026-13"), ("need", "food"), ("side", "both")):
        r = county.get(API, params={field: value})
        assert r.status_code == 400 and r.json()["field"] == field, (field, r.text)
        assert r.json()["message_zh"]
    assert county.get(API, params={"page_size": 201}).status_code == 422


def test_pagination(client_as, world):
    _, w = world
    county = client_as("county_admin", "370402")
    pages = [county.get(API, params={"page": n, "page_size": 3}).json() for n in (1, 2, 3)]
    assert [p["total"] for p in pages] == [4, 4, 4]
    assert [[i["warning_id"] for i in p["items"]] for p in pages] == [
        [w["other"], w["car"], w["medical"]], [w["hotline"]], []]
    assert (pages[1]["page"], pages[1]["page_size"]) == (2, 3)


def test_grid_worker_sees_only_households_of_their_grid(client_as, world):
    _, w = world
    grid = client_as("grid_worker", GRID_1)
    assert _ids(grid.get(API)) == [w["medical"]]  # not the feeds-only person: no household, no grid
    assert _ids(grid.get(API, params={"month": "2026-01"})) == [w["medical"]]  # not H002 (grid 2)
    assert grid.get(f"{API}/{w['death']}").status_code == 404
    assert grid.get(f"{API}/{w['medical']}").status_code == 200
    assert _ids(grid.get(API, params={"region": VILLAGE})) == [w["medical"]]  # still only the grid
    assert grid.get(f"{API}/summary").json()["total"] == 1


def test_department_liaison_sees_only_the_needs_pushed_to_their_department(client_as, world):
    _, w = world
    medical = client_as("department_liaison", "3704", department="medical_insurance")
    assert _ids(medical.get(API)) == [w["medical"]]
    assert _ids(medical.get(API, params={"need": "integrity"})) == []
    assert medical.get(f"{API}/{w['medical']}").status_code == 200
    assert medical.get(f"{API}/{w['car']}").status_code == 404
    assert medical.get(f"{API}/summary").json()["by_need"] == {"medical": 1}
    health = client_as("department_liaison", "3704", department="health")  # receives no need
    assert _ids(health.get(API)) == [] and health.get(f"{API}/{w['medical']}").status_code == 404
    employment = client_as("department_liaison", "3704", department="hr_social_security")
    assert _ids(employment.get(API, params={"month": "2026-03"})) == [w["running"]]


def test_roles_without_the_capability_are_refused(client_as, world):
    _, w = world
    for role, region in (("charity", "370402"), ("data_officer", "37")):
        client = client_as(role, region)
        for path in (API, f"{API}/summary", f"{API}/{w['medical']}"):
            r = client.get(path)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, path)


def test_summary_counts_inside_the_scope(client_as, world):
    caseworker = client_as("township_caseworker", TOWNSHIP)
    s = caseworker.get(f"{API}/summary").json()
    assert s["month"] == "2026-02" and s["total"] == 3
    assert s["by_level"] == {"blue": 1, "yellow": 0, "orange": 2, "red": 0}
    assert s["by_rule"] == {"medical_oop_large": 1, "asset_car": 1, "hotline_help": 1}
    assert s["by_need"] == {"medical": 1, "integrity": 1, "basic_living": 1}
    assert s["by_side"] == {"entry": 2, "exit": 1} and s["by_status"] == {"new": 3}
    assert s["labels"]["rule"]["asset_car"]["name_zh"] and s["labels"]["level"]["red"] == "红"
    jan = client_as("province_admin", "37").get(f"{API}/summary", params={"month": "2026-01"}).json()
    assert jan["total"] == 3 and jan["by_level"] == {"blue": 0, "yellow": 1, "orange": 1, "red": 1}
    assert caseworker.get(f"{API}/summary", params={"region": OTHER_VILLAGE}).status_code == 404


def test_dashboard_shows_the_latest_months_warnings_by_level_in_scope(client_as, world):
    caseworker = client_as("township_caseworker", TOWNSHIP).get("/api/v1/dashboard/summary").json()
    assert caseworker["warnings_month"] == "2026-02"
    assert caseworker["warnings_by_level"] == {"blue": 1, "yellow": 0, "orange": 2, "red": 0}
    county = client_as("county_admin", "370402").get("/api/v1/dashboard/summary").json()
    assert sum(county["warnings_by_level"].values()) > sum(caseworker["warnings_by_level"].values())
    # a medical-insurance liaison: only the medical warning of the township
    liaison = client_as("department_liaison", TOWNSHIP, department="medical_insurance")
    assert sum(liaison.get("/api/v1/dashboard/summary").json()["warnings_by_level"].values()) == 1


def test_detail_has_every_firing_the_rule_and_the_household_link(client_as, world):
    people, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    r = caseworker.get(f"{API}/{w['medical']}")
    assert r.status_code == 200, r.text
    jianguo = people["张建国"]
    d = r.json()
    assert (d["rule"], d["level"], d["raised_month"], d["last_month"], d["fired_months"], d["value"]) == (
        "medical_oop_large", "orange", "2026-01", "2026-02", 2, "0.55")
    record = f"medical-{jianguo['person_id']}-2026-0"
    assert d["firings"] == [
        {"month": "2026-01", "level": "yellow", "value": "0.35", "run_id": d["firings"][0]["run_id"],
         "evidence": [{"feed": "medical", "record_id": record + "1", "month": "2026-01"}],
         "value_label": "自付医疗费为家庭收入的 35%"},
        {"month": "2026-02", "level": "orange", "value": "0.55", "run_id": d["firings"][1]["run_id"],
         "evidence": [{"feed": "medical", "record_id": record + "2", "month": "2026-02"}],
         "value_label": "自付医疗费为家庭收入的 55%"}]
    assert d["firings"][0]["run_id"] < d["firings"][1]["run_id"]
    assert d["person"] == {"person_id": jianguo["person_id"], "name": "张**",
                           "id_number": jianguo["id_number"][:6] + "********" + jianguo["id_number"][-4:]}
    assert d["household"] == {"household_id": jianguo["household_id"], "household_no": "****",
                              "link": "/households/H001"}
    entry = d["rule_entry"]
    assert (entry["id"], entry["need"], entry["side"], entry["parameters_on"]) == (
        "medical_oop_large", "medical", "entry", "2026-02-01")
    assert entry["pushed_to"].startswith("医疗保障局")
    assert entry["parameters"]["yellow_ratio"]["value"] == "0.3"
    assert [lv["level"] for lv in entry["levels"]] == ["yellow", "orange", "red"]
    assert d["rule_name_zh"] == "医疗自付费用过高（因病致贫风险）"
    assert jianguo["id_number"] not in r.text and "张建国" not in r.text
    # the feeds-only person: no household, no link
    hotline = caseworker.get(f"{API}/{w['hotline']}").json()
    assert hotline["household"] == {"household_id": None, "household_no": None, "link": None}


def test_detail_outside_the_region_is_404_like_a_missing_one(client_as, world):
    _, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    outside, missing = caseworker.get(f"{API}/{w['other']}"), caseworker.get(f"{API}/999999")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
    assert client_as("county_admin", "370402").get(f"{API}/{w['other']}").status_code == 200


def test_detail_read_is_audited_once_without_values(client_as, world, engine):
    people, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    grid = client_as("grid_worker", GRID_1)
    start = len(_audit(engine))
    assert caseworker.get(f"{API}/{w['medical']}").status_code == 200
    assert grid.get(f"{API}/{w['medical']}").status_code == 200   # every reader, not only registry.sensitive
    assert caseworker.get(f"{API}/{w['other']}").status_code == 404  # nothing read: the probe is audited
    assert caseworker.get(API).status_code == 200                    # masked list: not audited
    assert caseworker.get(f"{API}/summary").status_code == 200
    rows = _audit(engine)[start:]
    assert [(r["actor"], r["action"], r["object_type"], r["object_id"], r["result"], r["purpose"])
            for r in rows] == [
        (caseworker.username, "read", "warning", str(w["medical"]), "ok", "warning detail"),
        (grid.username, "read", "warning", str(w["medical"]), "ok", "warning detail"),
        (caseworker.username, "denied", "route", f"GET {API}/{w['other']}", "denied", None)]
    assert json.loads(rows[0]["fields"]) == ["evidence", "id_number", "level", "rule", "value"]
    jianguo = people["张建国"]
    assert not any(jianguo["id_number"] in str(r) or "张建国" in str(r) for r in rows)


def test_detail_is_not_answered_when_its_audit_row_cannot_be_written(client_as, world, monkeypatch):
    from safetynet.monitoring import api as warnings_api

    _, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(warnings_api, "audit_record", broken)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        caseworker.get(f"{API}/{w['medical']}")


def test_a_household_lists_all_its_warnings_across_months(client_as, world):
    people, w = world
    caseworker = client_as("township_caseworker", TOWNSHIP)
    r = caseworker.get(API, params={"household_no": "H001"})
    assert _ids(r) == [w["medical"]] and r.json()["month"] is None
    assert r.json()["items"][0]["level"] == "orange" and r.json()["items"][0]["month"] == "2026-02"
    by_id = caseworker.get(API, params={"household_id": people["赵小红"]["household_id"]})
    assert _ids(by_id) == [w["car"], w["running"]]
    # one household in a month; another region's household: nothing, whether by number or id
    assert _ids(caseworker.get(API, params={"household_no": "H001", "month": "2026-01"})) == [w["medical"]]
    assert _ids(caseworker.get(API, params={"household_no": "H900"})) == []
    assert _ids(caseworker.get(API, params={"household_id": people["张老汉"]["household_id"]})) == []


def test_no_finished_run_yet_lists_nothing(client_as, engine):
    r = client_as("province_admin", "37").get(API)
    assert r.status_code == 200 and r.json() == {"items": [], "total": 0, "page": 1, "page_size": 20,
                                                 "month": None}
    s = client_as("province_admin", "37").get(f"{API}/summary").json()
    assert s["month"] is None and s["total"] == 0


def test_runs_for_data_officers_and_administrators(client_as, world, engine):
    officer = client_as("data_officer", "37")
    body = officer.get(f"{API}/runs").json()
    assert body["total"] == 3 and [r["month"] for r in body["items"]] == ["2026-03", "2026-02", "2026-01"]
    running, feb = body["items"][0], body["items"][1]
    assert running["status"] == "running" and running["seconds"] is None
    assert (feb["status"], feb["engine"], feb["seconds"], feb["peak_memory_mb"]) == ("finished", "duckdb",
                                                                                     1.5, 300.0)
    assert feb["counts"]["by_region"]["370102001001"] == 9 and "scoped_to" not in body
    assert _ids_of_runs(officer.get(f"{API}/runs", params={"month": "2026-01"})) == ["2026-01"]
    # a county administrator: only the figures of the county's regions, no province-wide totals
    county = client_as("county_admin", "370402").get(f"{API}/runs").json()
    assert county["items"][1]["counts"] == {"by_region": {VILLAGE: 3, "370402001201": 1, OTHER_VILLAGE: 1}}
    assert county["scoped_to"] == "370402"
    for role, region in (("township_caseworker", TOWNSHIP), ("auditor", "37"), ("grid_worker", GRID_1)):
        r = client_as(role, region).get(f"{API}/runs")
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
    with engine.connect() as c:  # the denials were audited
        assert c.execute(select(func.count()).select_from(audit_log)
                         .where(audit_log.c.action == "denied")).scalar_one() == 3


def _ids_of_runs(r) -> list[str]:  # noqa: ANN001
    assert r.status_code == 200, r.text
    return [x["month"] for x in r.json()["items"]]
