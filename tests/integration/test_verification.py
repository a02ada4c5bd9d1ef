"""Family economic-condition verification: authorisations, the report and its traceability,
agreement with the batch facts, --assess, CLI and API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from safetynet.analytics.service import household_facts
from safetynet.audit.store import audit_log
from safetynet.errors import NotFoundError
from safetynet.feeds import service as feeds_service
from safetynet.registry import service as registry_service
from safetynet.rules.model import TIERS, parse_assess_input
from safetynet.verification import model, service, store
from safetynet.verification.cli import app as verify_cli
from tests.factories import VILLAGE, make_id, write_csv, write_register

HEAD = make_id("1970-03-01", 41, sex="M")
SPOUSE = make_id("1972-06-15", 42, sex="F")
OTHER = make_id("1980-01-01", 43, sex="M")  # not in the household
COMMON = ["record_id", "id_number", "name"]
MONTH = "2025-07"
ON = dt.date(2025, 8, 10)  # report date in the service tests
SI = [*COMMON, "month", "kind", "employer", "amount"]


def _register(engine: Engine, tmp_path: Path) -> None:
    households = [["H001", VILLAGE, "urban", "光明路1号", "", ""]]
    persons = [["H001", HEAD, "张建国", "M", "1970-03-01", "head", "", "", "", "", ""],
               ["H001", SPOUSE, "李秀英", "F", "1972-06-15", "spouse", "", "", "", "", ""]]
    d = write_register(tmp_path / "reg", households, persons)
    registry_service.import_register(engine, directory=d, as_of=dt.date(2025, 1, 1))


def _ingest(engine: Engine, tmp_path: Path) -> Path:
    d = tmp_path / "feeds"
    write_csv(d / "social_insurance_202506.csv", SI, [
        ["SI1", HEAD, "张建国", "2025-06", "wage", "枣庄某厂", "2000"],
        ["SI2", SPOUSE, "李秀英", "2025-06", "pension", "城乡居民基本养老保险", "180"],
        ["SI3", SPOUSE, "李秀英", "2025-06", "unemployment_benefit", "枣庄人社", "300"],
        ["SI9", OTHER, "王五", "2025-06", "wage", "某店", "7777"],
        ["SI10", SPOUSE, "李秀英", "2025-06", "wage", "某店", "400"],
    ])
    write_csv(d / "social_insurance_202507.csv", SI, [
        ["SI1", HEAD, "张建国", "2025-06", "wage", "枣庄某厂", "2100"],  # correction of June's wage
        ["SI4", HEAD, "张建国", "2025-07", "wage", "枣庄某厂", "2200.60"],  # the planted income
        ["SI5", HEAD, "张建国", "2025-07", "pension", "企业职工基本养老保险", "1000"],
        ["SI6", SPOUSE, "李秀英", "2025-07", "pension", "城乡居民基本养老保险", "180"],
        ["SI7", HEAD, "张建国", "2024-07", "wage", "枣庄某厂", "999"],  # before the 12 months
        ["SI10", OTHER, "王五", "2025-06", "wage", "某店", "400"],  # corrected: it was not the spouse's
    ])
    # delivered for a later month: not known for the July report
    write_csv(d / "social_insurance_202508.csv", SI, [
        ["SI8", HEAD, "张建国", "2025-08", "wage", "枣庄某厂", "5000"]])
    write_csv(d / "vehicle_202507.csv", [*COMMON, "plate", "vehicle_type", "registered_on",
                                         "deregistered_on", "price"], [
        ["V1", HEAD, "张建国", "鲁D12345", "car", "2020-01-01", "", "60000"],
        ["V2", SPOUSE, "李秀英", "鲁D54321", "car", "2018-01-01", "2025-06-01", "50000"],
        ["V3", SPOUSE, "李秀英", "鲁D0000A", "motorcycle", "2019-01-01", "", "3000"],
    ])
    write_csv(d / "property_202507.csv", [*COMMON, "property_no", "area_m2", "use", "registered_on",
                                          "deregistered_on"], [
        ["P1", HEAD, "张建国", "370402001001GB00001", "80.5", "residential", "2010-05-01", ""],
        ["P2", HEAD, "张建国", "370402001001GB00002", "30", "commercial", "2012-01-01", "2024-01-01"],
    ])
    write_csv(d / "business_202507.csv", [*COMMON, "entity_name", "role", "registered_capital",
                                          "established_on", "status"], [
        ["B1", SPOUSE, "李秀英", "枣庄某商贸有限公司", "shareholder", "50000", "2019-03-01", "active"],
        ["B2", SPOUSE, "李秀英", "枣庄某小吃店", "owner", "20000", "2015-03-01", "cancelled"],
    ])
    write_csv(d / "deposits_202507.csv", [*COMMON, "as_of", "balance", "institution"], [
        ["DP1", HEAD, "张建国", "2025-06-30", "10000", "农业银行"],
        ["DP2", HEAD, "张建国", "2025-07-31", "12000", "农业银行"],
        ["DP3", HEAD, "张建国", "2025-07-15", "3000", "邮储银行"],
    ])
    write_csv(d / "housing_fund_202507.csv", [*COMMON, "month", "deposit"], [
        ["HF1", HEAD, "张建国", "2025-06", "500"], ["HF2", HEAD, "张建国", "2025-07", "500"]])
    write_csv(d / "medical_202507.csv", [*COMMON, "settled_on", "kind", "total_cost", "fund_paid",
                                         "out_of_pocket"], [
        ["M1", SPOUSE, "李秀英", "2025-03-10", "inpatient", "8000", "7200", "800"],
        ["M2", HEAD, "张建国", "2024-05-01", "outpatient", "700", "0", "70"],  # before the window
        ["M3", HEAD, "张建国", "2025-07-02", "outpatient", "1000", "700", ""],  # 1000 − 700
    ])
    write_csv(d / "disaster_202507.csv", [*COMMON, "event_type", "occurred_on", "loss_estimate"], [
        ["DS1", HEAD, "张建国", "flood", "2025-05-01", "5000"]])
    write_csv(d / "disability_202507.csv", [*COMMON, "category", "grade", "issued_on", "status"], [
        ["D1", SPOUSE, "李秀英", "physical", "2", "2015-01-01", "valid"]])
    reports = feeds_service.ingest(engine, paths=[d], lake_dir=tmp_path / "lake", actor="test")
    assert all(r.status == "loaded" and r.quarantined == 0 for r in reports), [r.as_dict() for r in reports]
    return tmp_path / "lake"


@pytest.fixture
def household(engine: Engine, tmp_path: Path) -> Path:
    _register(engine, tmp_path)
    return _ingest(engine, tmp_path)


def _authorise(engine: Engine, scope: str = "income,assets,deposits,housing_fund,medical,disaster",
               **kw) -> model.Authorisation:  # noqa: ANN003
    args = {"household_no": "H001", "signed_on": dt.date(2025, 8, 1), "scope": scope,
            "signer_name": "张建国", "document_ref": "SQ-2025-0001", "actor": "test"} | kw
    return service.authorise(engine, **args)


def _report(engine: Engine, lake: Path, **kw) -> dict:  # noqa: ANN003
    return service.report(engine, household_no="H001", month=MONTH, lake_dir=lake, actor="test", on=ON, **kw)


def _all_sources(member: dict) -> list[dict]:
    from safetynet.verification.render import sources

    return [s for _, s in sources(member)]


# --- authorisation ---------------------------------------------------------------------------


def test_refuses_without_authorisation(engine: Engine, household: Path) -> None:
    with pytest.raises(model.NotAuthorisedError) as e:
        _report(engine, household)
    assert "没有有效的家庭经济状况核对授权" in str(e.value) and "no family authorisation" in str(e.value)
    assert e.value.missing == model.MIN_SCOPE


def test_scope_without_deposits_hides_them_and_refuses_them(engine: Engine, household: Path) -> None:
    _authorise(engine, scope="income,assets")
    r = _report(engine, household)
    assert r["scope"] == ["income", "assets"] and "deposits" in r["not_authorised"]
    assert "deposits" not in r["totals"]["assets"]
    assert all("deposits" not in m["assets"] for m in r["members"])
    assert all(s["feed"] != "deposits" for m in r["members"] for s in _all_sources(m))
    assert "medical" not in r["totals"]["expenditure"]  # not authorised either
    assert "deposits" not in r["assess_input"]["assets"]
    with pytest.raises(model.NotAuthorisedError) as e:
        _report(engine, household, scope="income,deposits")
    assert e.value.missing == ("deposits",) and "银行存款" in e.value.message_zh


def test_expired_revoked_and_future_authorisations_refuse(engine: Engine, household: Path) -> None:
    a = _authorise(engine, valid_until=dt.date(2025, 12, 31))
    assert _report(engine, household)["authorisations"][0]["id"] == a.id
    with pytest.raises(model.NotAuthorisedError):  # expired
        service.report(engine, household_no="H001", month=MONTH, lake_dir=household, actor="t",
                       on=dt.date(2026, 1, 5))
    with pytest.raises(model.NotAuthorisedError):  # not signed yet on that day
        service.report(engine, household_no="H001", month="2025-06", lake_dir=household, actor="t",
                       on=dt.date(2025, 7, 20))
    revoked = service.revoke(engine, household_no="H001", authorisation_id=a.id, actor="test")
    assert revoked.revoked_at is not None and revoked.revoked_by == "test"
    with pytest.raises(model.NotAuthorisedError):
        service.report(engine, household_no="H001", month=MONTH, lake_dir=household, actor="t")
    views = [service.authorisation_view(x) for x in service.list_authorisations(engine, household_no="H001")]
    assert [v["status"] for v in views] == ["revoked"]


def test_authorise_validates_and_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    _register(engine, tmp_path)
    a = _authorise(engine)
    assert _authorise(engine).id == a.id  # the same document recorded again
    with engine.connect() as c:
        n = c.execute(select(func.count()).select_from(store.verification_authorisations)).scalar_one()
    assert n == 1
    with pytest.raises(model.VerificationInputError, match=r"scope: unknown 'bank'; valid: income"):
        _authorise(engine, scope="income,bank")
    with pytest.raises(model.VerificationInputError) as e:
        _authorise(engine, valid_until=dt.date(2025, 7, 1))
    assert e.value.field == "valid_until"
    with pytest.raises(model.VerificationInputError) as e:
        _authorise(engine, signed_on=dt.date.today() + dt.timedelta(days=3))
    assert e.value.field == "signed"
    with pytest.raises(NotFoundError):
        _authorise(engine, household_no="H999")
    assert service.authorisation_view(a)["signer"] == "张**"


# --- the report ------------------------------------------------------------------------------


def test_report_figures_and_traceability(engine: Engine, household: Path) -> None:
    _authorise(engine)
    r = _report(engine, household)
    assert r["generated_by"] == "test" and r["generated_at"] and r["report_date"] == ON.isoformat()
    assert r["window"] == {"first_month": "2024-08", "last_month": "2025-07", "end": "2025-07-31"}
    assert r["months_observed"] == 2
    head, spouse = r["members"]
    assert head["relation"] == "head" and head["id_number"] == HEAD[:6] + "********" + HEAD[-4:]
    assert head["name"] == "张**" and HEAD not in json.dumps(r, ensure_ascii=False)

    items = {i["item"]: i for i in head["income"]["items"]}
    wage = items["wage"]
    assert wage["counted"] and wage["months"]["2025-07"] == 220060  # planted: 2,200.60 yuan
    assert wage["months"]["2025-06"] == 210000  # the correction, not the first delivery
    assert wage["total_12m_fen"] == 430060 and wage["average_fen"] == 215030
    assert sorted((s["record_id"], s["version"]) for s in wage["rows"]) == [("SI1", 2), ("SI4", 1)]
    assert all(s["file"].startswith("social_insurance/month=") and s["load_id"] and s["line"]
               for s in wage["rows"])
    assert items["transfer"]["total_12m_fen"] == 100000  # an employee's pension counts
    sp = {i["item"]: i for i in spouse["income"]["items"]}
    assert sp["basic_pension"]["total_12m_fen"] == 36000 and not sp["basic_pension"]["counted"]
    assert "不计入" in sp["basic_pension"]["reference"]
    assert sp["transfer"]["total_12m_fen"] == 30000 and sp["transfer"]["counted"]
    assert sp["wage"]["total_12m_fen"] == 0 and not sp["wage"]["rows"]  # SI10 moved to another person

    inc = r["totals"]["income"]
    assert inc["counted_average_fen"] == 215030 + 50000 + 15000
    assert inc["excluded_average_fen"] == 18000
    assert inc["per_capita_counted_average_fen"] == 140015

    a = r["totals"]["assets"]
    assert (a["vehicles"]["count"], a["vehicles"]["value_fen"]) == (2, 6300000)
    assert a["vehicles"]["by_type"]["car"] == 1 and a["vehicles"]["by_type"]["motorcycle"] == 1
    prop = a["property"]
    assert (prop["homes"], prop["other"], prop["residential_area_m2"]) == (1, 0, 80.5)
    assert (a["business"]["count"], a["business"]["capital_fen"]) == (1, 5000000)
    assert a["deposits"]["balance_fen"] == 1500000  # latest per bank: 12,000 + 3,000
    assert a["housing_fund"]["total_12m_fen"] == 100000
    e = r["totals"]["expenditure"]
    assert e["medical"]["total_12m_fen"] == 80000 + 30000 and e["disaster"]["total_12m_fen"] == 500000
    assert e["rehabilitation"]["no_source"] and "education" not in e
    assert r["totals"]["deductions"][0]["amount_fen"] == 80000 + 30000 + 500000
    assert spouse["status"]["disability"] == {"category": "physical", "grade": 2}


def test_totals_equal_the_sum_of_listed_rows(engine: Engine, household: Path) -> None:
    _authorise(engine)
    r = _report(engine, household)
    seen = [s for m in r["members"] for s in _all_sources(m)]
    left_out = {"SI7", "SI8", "SI9", "SI10", "M2", "V2", "P2", "B2", "DP1"}
    assert {s["record_id"] for s in seen}.isdisjoint(left_out)
    for k, total in enumerate(r["totals"]["income"]["items"]):
        rows = [s for m in r["members"] for s in m["income"]["items"][k]["rows"]]
        assert total["total_12m_fen"] == sum(s["amount_fen"] for s in rows), total["item"]
        for month, amount in total["months"].items():
            assert amount == sum(s["amount_fen"] for s in rows if s["date"] == month)
    a = r["totals"]["assets"]
    assert a["vehicles"]["value_fen"] == sum(s["amount_fen"] for m in r["members"]
                                             for s in m["assets"]["vehicles"]["rows"])
    assert a["vehicles"]["count"] == sum(len(m["assets"]["vehicles"]["rows"]) for m in r["members"])
    assert a["deposits"]["balance_fen"] == sum(s["amount_fen"] for m in r["members"]
                                               for s in m["assets"]["deposits"]["rows"])
    assert a["business"]["capital_fen"] == sum(s["amount_fen"] for m in r["members"]
                                               for s in m["assets"]["business"]["rows"])
    for item in ("medical", "disaster"):
        assert r["totals"]["expenditure"][item]["total_12m_fen"] == sum(
            s["amount_fen"] for m in r["members"] for s in m["expenditure"][item]["rows"])


def test_report_agrees_with_batch_facts(engine: Engine, household: Path) -> None:
    _authorise(engine)
    r = _report(engine, household)
    h, p = household_facts(engine, month=MONTH, lake_dir=household)
    f = h.to_pylist()[0]
    t = r["totals"]
    assert t["assets"]["deposits"]["balance_fen"] == f["deposits_fen"]
    assert t["assets"]["vehicles"]["value_fen"] == f["vehicle_value_fen"]
    assert t["assets"]["property"]["homes"] == f["homes"]
    assert t["assets"]["business"]["capital_fen"] == f["business_capital_fen"]
    assert t["assets"]["housing_fund"]["total_12m_fen"] == f["housing_fund_deposit_12m_fen"]
    assert t["expenditure"]["medical"]["total_12m_fen"] == f["expenditure_medical_12m_fen"]
    assert t["expenditure"]["disaster"]["total_12m_fen"] == f["expenditure_disaster_12m_fen"]
    by_id = {x["id_number"]: x for x in p.to_pylist()}
    assert r["members"][1]["status"]["disability"]["grade"] == by_id[SPOUSE]["disability_grade"]


def test_report_income_agrees_with_batch_facts(engine: Engine, household: Path) -> None:
    _authorise(engine)
    r = _report(engine, household)
    h, p = household_facts(engine, month=MONTH, lake_dir=household)
    f, t = h.to_pylist()[0], r["totals"]
    by_id = {x["id_number"]: x for x in p.to_pylist()}
    for m, id_number in zip(r["members"], (HEAD, SPOUSE), strict=True):
        for i in m["income"]["items"]:
            assert i["average_fen"] == by_id[id_number][f"income_{i['item']}_avg_fen"], i["item"]
    assert t["income"]["counted_average_fen"] == f["counted_income_avg_fen"]
    assert t["income"]["excluded_average_fen"] == f["excluded_income_avg_fen"]
    assert t["income"]["per_capita_counted_average_fen"] == f["per_capita_income_avg_fen"]


def test_assess_from_data_alone(engine: Engine, household: Path) -> None:
    _authorise(engine)
    r = _report(engine, household)
    data = parse_assess_input(r["assess_input"])  # a valid contract input
    assert data.as_of == dt.date(2025, 7, 31) and data.registration == "urban"
    assert data.members[0].income_monthly.wage == 2150.30
    assert data.members[1].income_monthly.basic_pension == 180.0
    assert [c.type for c in data.assets.cars] == ["car", "motorcycle"] and data.assets.deposits == 15000.0
    out = service.assess(engine, report=r)
    assert out["household_tier"] in TIERS and out["per_capita_income_monthly"] == 1400.15
    assert [p["id"] for p in out["persons"]] == ["m1", "m2"]
    assert {"dibao", "total"} <= set(out["benefits_monthly"]) and out["explanation"]


# --- CLI and API ------------------------------------------------------------------------------


def test_cli(settings_env: Path, engine: Engine, tmp_path: Path) -> None:
    _register(engine, tmp_path)
    lake = _ingest(engine, settings_env)  # the CLI's lake: <data_dir>/lake
    assert lake == settings_env / "lake"
    run = CliRunner().invoke
    r = run(verify_cli, ["report", "H001", "--month", MONTH])
    assert r.exit_code == 2 and "拒绝核对" in r.output and "authorisation" in r.output
    r = run(verify_cli, ["authorise", "H001", "--signed", "2025-08-01", "--scope", "income,assets,bank",
                         "--signer", "张建国", "--document", "SQ-1"])
    assert r.exit_code == 2 and "valid: income" in r.output
    r = run(verify_cli, ["authorise", "H001", "--signed", "2025-08-01", "--scope", "income,assets",
                         "--signer", "张建国", "--document", "SQ-1"])
    assert r.exit_code == 0 and "张**" in r.output and "张建国" not in r.output, r.output
    r = run(verify_cli, ["authorisations", "H001", "--json"])
    assert [v["scope"] for v in json.loads(r.output)] == [["income", "assets"]]
    r = run(verify_cli, ["report", "H001", "--month", MONTH])
    assert r.exit_code == 0, r.output
    assert "家庭经济状况核对报告" in r.output and "工资性收入" in r.output and "数据来源" in r.output
    assert HEAD not in r.output and HEAD[:6] in r.output and "张建国" not in r.output
    assert "2,200.60" in r.output
    r = run(verify_cli, ["report", "H001", "--month", MONTH, "--json"])
    assert json.loads(r.output)["totals"]["income"]["counted_average_fen"] == 280030
    r = run(verify_cli, ["report", "H001", "--month", MONTH, "--scope", "deposits"])
    assert r.exit_code == 2 and "银行存款" in r.output
    r = run(verify_cli, ["report", "H001", "--month", MONTH, "--assess"])
    out = json.loads(r.output)
    assert r.exit_code == 0 and set(out) >= {"household_tier", "per_capita_income_monthly", "persons",
                                             "benefits_monthly", "explanation"}
    assert run(verify_cli, ["report", "H001", "--month", "2025-13"]).exit_code == 2
    assert run(verify_cli, ["report", "H999"]).exit_code == 1


def test_api_round_trip(engine: Engine, household: Path, client_as) -> None:  # noqa: ANN001
    client_as.app.state.lake_dir = household
    c = client_as("township_caseworker", VILLAGE[:9] + "000")
    url = "/api/v1/households/H001"
    r = c.get(f"{url}/verification", params={"month": MONTH})
    assert r.status_code == 403
    assert r.json()["code"] == "not_authorised" and "授权" in r.json()["message_zh"]
    body = {"signed_on": "2025-08-01", "scope": ["income", "assets"], "signer": "张建国", "document": "SQ-9"}
    r = c.post(f"{url}/authorisations", json=body)
    assert r.status_code == 201 and r.json()["signer"] == "张**" and r.json()["status"] == "valid"
    auth_id = r.json()["id"]
    assert c.post(f"{url}/authorisations", json=body).json()["id"] == auth_id
    r = c.post(f"{url}/authorisations", json=body | {"scope": ["salary"]})
    assert r.status_code == 400 and "scope" in r.json()["message"]
    assert [a["id"] for a in c.get(f"{url}/authorisations").json()["items"]] == [auth_id]
    r = c.get(f"{url}/verification", params={"month": MONTH})
    assert r.status_code == 200
    rep = r.json()
    assert rep["totals"]["income"]["counted_average_fen"] == 280030
    assert "deposits" not in rep["totals"]["assets"]
    assert HEAD not in r.text
    r = c.get(f"{url}/verification", params={"month": MONTH, "scope": "income,deposits"})
    assert r.status_code == 403 and r.json()["missing"] == ["deposits"]
    r = c.get(f"{url}/verification", params={"month": MONTH, "assess": True})
    assert r.status_code == 200 and r.json()["assessment"]["per_capita_income_monthly"] == 1400.15
    assert c.get(f"{url}/verification", params={"month": "July"}).status_code == 400
    assert c.get("/api/v1/households/H999/authorisations").status_code == 404
    r = c.post(f"{url}/authorisations/{auth_id}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert c.get(f"{url}/verification", params={"month": MONTH}).status_code == 403
    # every report read (allowed or refused) and every authorisation write is audited, without values
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.object_type, audit_log.c.result,
                                   audit_log.c.fields, audit_log.c.actor)
                            .where(audit_log.c.object_id == "H001").order_by(audit_log.c.id)).all()
    reads = [(r.result, r.fields) for r in rows if r.object_type == "verification_report"]
    assert [res for res, _ in reads] == ["denied", "ok", "denied", "ok", "denied"]
    writes = [r for r in rows if r.object_type == "verification_authorisation"]
    assert len(writes) == 3 and all(r.actor == c.username for r in rows)  # two records (one repeat), revoke
    assert "张建国" not in str(rows) and "280030" not in str(rows)


def test_synthetic_province_reports_agree_with_facts(engine: Engine, tmp_path: Path,
                                                     synthetic_province: Path) -> None:
    as_of = dt.date(2025, 2, 28)
    registry_service.import_register(engine, directory=synthetic_province / "registry", as_of=as_of,
                                     partial=True)
    lake = tmp_path / "lake"
    feeds_service.ingest(engine, paths=[synthetic_province / "feeds"], lake_dir=lake, actor="test")
    h, _ = household_facts(engine, month="2025-02", lake_dir=lake)
    rows = [x for x in h.to_pylist() if x["members"] > 0]
    chosen = ([x for x in rows if x["counted_income_avg_fen"] > 0][:6]
              + [x for x in rows if x["deposits_fen"]][:3]
              + [x for x in rows if x["car_count"] or x["homes"]][:3]
              + [x for x in rows if x["expenditure_medical_12m_fen"]][:3])
    assert len(chosen) >= 10
    checked = 0
    for f in {x["household_no"]: x for x in chosen}.values():
        service.authorise(engine, household_no=f["household_no"], signed_on=dt.date(2025, 3, 1),
                          scope=list(model.SCOPES), signer_name="户主", document_ref="SQ", actor="t")
        r = service.report(engine, household_no=f["household_no"], month="2025-02", lake_dir=lake,
                           actor="t", on=dt.date(2025, 3, 15))
        t = r["totals"]
        assert (t["members"], t["income"]["counted_average_fen"], t["income"]["excluded_average_fen"],
                t["assets"]["deposits"]["balance_fen"], t["assets"]["vehicles"]["value_fen"],
                t["assets"]["vehicles"]["by_type"]["car"], t["assets"]["property"]["homes"],
                t["assets"]["business"]["capital_fen"], t["assets"]["housing_fund"]["total_12m_fen"],
                t["expenditure"]["medical"]["total_12m_fen"], t["expenditure"]["education"]["total_12m_fen"],
                t["expenditure"]["disaster"]["total_12m_fen"]) == (
            f["members"], f["counted_income_avg_fen"], f["excluded_income_avg_fen"], f["deposits_fen"],
            f["vehicle_value_fen"], f["car_count"], f["homes"], f["business_capital_fen"],
            f["housing_fund_deposit_12m_fen"], f["expenditure_medical_12m_fen"],
            f["expenditure_education_12m_fen"], f["expenditure_disaster_12m_fen"]), f["household_no"]
        checked += 1
    assert checked >= 10
