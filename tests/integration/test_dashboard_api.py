"""Dashboard, regions, feed ledger and standards read API (issue 6), scoped to the user's
region; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.dashboard import service as dashboard
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from tests.factories import TODAY, sample_register, write_register

PROVINCE, COUNTY, TOWNSHIP = "370000000000", "370402000000", "370402001000"


@pytest.fixture
def province_engine(engine, synthetic_province: Path):  # noqa: ANN001
    registry_service.import_register(engine, directory=synthetic_province / "registry",
                                     as_of=dt.date(2025, 2, 28), partial=True)
    return engine


def _sum(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _live_households(engine) -> int:  # noqa: ANN001
    ht = registry_store.household_tiers
    today = dt.date.today()
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(ht).where(
            ht.c.since <= today, (ht.c.until.is_(None)) | (ht.c.until > today))).scalar_one()


def test_dashboard_counts_match_registry_and_children_sum_to_parent(province_engine, client_as):
    c = client_as("province_admin", PROVINCE)
    top = c.get("/api/v1/dashboard/summary")
    assert top.status_code == 200, top.text
    top = top.json()
    assert top["region"]["code"] == PROVINCE and top["region"]["level"] == "province"
    registry_counts = registry_service.tier_counts(province_engine)
    assert sum(registry_counts.values()) > 500
    assert top["persons_by_tier"] == registry_counts
    assert top["households"] == _live_households(province_engine)
    assert top["warnings_by_level"] == {}
    # drill down, at each level the children add up to the parent
    region, level = top, "province"
    for want in ("city", "county", "township", "village"):
        kids = region["children"]
        assert kids and {k["level"] for k in kids} == {want}
        assert _sum([k["persons_by_tier"] for k in kids]) == region["persons_by_tier"], level
        assert sum(k["households"] for k in kids) == region["households"]
        busiest = max(kids, key=lambda k: k["persons"])
        assert busiest["persons"] > 0
        below = c.get("/api/v1/dashboard/summary", params={"region": busiest["code"]}).json()
        assert below["region"]["code"] == busiest["code"]
        assert below["persons_by_tier"] == busiest["persons_by_tier"]
        assert below["households"] == busiest["households"]
        # the household search of the same region agrees with the dashboard
        found = c.get("/api/v1/households", params={"region": busiest["code"], "page_size": 1}).json()
        assert found["total"] >= below["households"]
        region, level = below, want
    assert region["region"]["level"] == "village"
    assert {k["level"] for k in region["children"]} <= {"grid"}


def test_dashboard_trend_has_twelve_months_ending_today(province_engine, client_as):
    c = client_as("province_admin", PROVINCE)
    top = c.get("/api/v1/dashboard/summary").json()
    trend = top["trend"]
    assert len(trend) == 12
    today = dt.date.today()
    assert trend[-1]["month"] == f"{today.year:04d}-{today.month:02d}"
    assert trend == sorted(trend, key=lambda m: m["month"])
    last = {k: v for k, v in trend[-1].items() if k not in ("month", "total") and v}
    assert last == top["persons_by_tier"]
    assert trend[-1]["total"] == top["persons"]


def test_trend_follows_tier_intervals(engine, tmp_path):
    h, p = sample_register()
    registry_service.import_register(engine, directory=write_register(tmp_path / "a", h, p), as_of=TODAY)
    h2, p2 = copy.deepcopy(h), copy.deepcopy(p)
    p2[4][6], p2[4][7] = "dibao", "2025-08-01"    # 赵明: dibao_edge → dibao from 2025-08-01
    registry_service.import_register(engine, directory=write_register(tmp_path / "b", h2, p2),
                                     as_of=dt.date(2025, 9, 1))
    out = dashboard.summary(engine, region=COUNTY, scope="37", on=dt.date(2025, 9, 30))
    by_month = {m["month"]: m for m in out["trend"]}
    assert list(by_month)[0] == "2024-10" and list(by_month)[-1] == "2025-09"
    pick = lambda m: (m["dibao"], m["extremely_poor"], m["dibao_edge"])  # noqa: E731
    assert pick(by_month["2024-12"]) == (3, 1, 0)
    assert pick(by_month["2025-01"]) == (4, 1, 1)
    assert pick(by_month["2025-07"]) == (4, 1, 1)
    assert pick(by_month["2025-08"]) == (5, 1, 0)
    assert out["persons_by_tier"] == {"extremely_poor": 1, "dibao": 5}


def test_dashboard_scope(engine, tmp_path, client_as):
    registry_service.import_register(engine, directory=write_register(tmp_path / "a", *sample_register()),
                                     as_of=TODAY)
    c = client_as("township_caseworker", TOWNSHIP)
    own = c.get("/api/v1/dashboard/summary").json()
    assert own["region"]["code"] == TOWNSHIP
    assert own["persons_by_tier"] == {"extremely_poor": 1, "dibao": 4, "dibao_edge": 1}
    assert {k["level"] for k in own["children"]} == {"village"}
    for outside in (COUNTY, "370402002000", "37"):
        r = c.get("/api/v1/dashboard/summary", params={"region": outside})
        assert r.status_code == 404, outside
    bad = c.get("/api/v1/dashboard/summary", params={"region": "abc"})
    assert bad.status_code == 400 and bad.json()["field"] == "region"
    charity = client_as("charity", COUNTY)
    assert charity.get("/api/v1/dashboard/summary").status_code == 200
    assert charity.get("/api/v1/households").status_code == 403


def test_regions_scoped(engine, client_as):
    c = client_as("county_admin", COUNTY)
    r = c.get(f"/api/v1/regions/{COUNTY}").json()
    assert r["name"] == "市中区" and r["level"] == "county"
    assert [p["level"] for p in r["path"]] == ["province", "city", "county"]
    assert c.get("/api/v1/regions/370402").json()["code"] == COUNTY   # short code accepted
    kids = c.get(f"/api/v1/regions/{COUNTY}/children", params={"page_size": 200}).json()
    assert kids["total"] == len(kids["items"]) >= 8
    assert {k["level"] for k in kids["items"]} == {"township"}
    first = c.get(f"/api/v1/regions/{COUNTY}/children", params={"page_size": 3, "page": 2}).json()
    assert first["items"] == kids["items"][3:6] and first["total"] == kids["total"]
    # another county, and a code that does not exist, answer alike
    other, missing = c.get("/api/v1/regions/370403000000"), c.get("/api/v1/regions/370402999000")
    assert other.status_code == missing.status_code == 404 and other.json() == missing.json()
    assert c.get("/api/v1/regions/370000000000/children").status_code == 404
    bad = c.get("/api/v1/regions/12x")
    assert bad.status_code == 400 and bad.json()["field"] == "code"


def _ledger_row(i: int, feed: str, month: str, status: str) -> dict:
    now = dt.datetime(2025, 3, 1, 8, i, tzinfo=dt.UTC)
    return {"file_name": f"{feed}_{month}_{i}.csv", "digest": f"{i:064d}",
            "loaded_digest": f"{i:064d}" if status == "loaded" else None, "feed": feed, "month": month,
            "status": status, "rows": 10, "accepted": 10 if status == "loaded" else 0, "linked": 0,
            "quarantined": 0, "duplicate": 0, "corrected": 0,
            "errors": [] if status == "loaded" else [{"file": "x", "line": 2, "column": "amount",
                                                      "reason": "not an amount"}],
            "actor": "test", "started_at": now, "finished_at": now}


def test_feed_load_ledger(engine, client_as):
    from safetynet.feeds.store import feed_loads

    with engine.begin() as conn:
        conn.execute(feed_loads.insert(), [
            _ledger_row(1, "social_insurance", "2025-01", "loaded"),
            _ledger_row(2, "social_insurance", "2025-02", "rejected"),
            _ledger_row(3, "medical", "2025-02", "loaded"),
        ])
    c = client_as("data_officer", PROVINCE)
    everything = c.get("/api/v1/feeds/loads").json()
    assert everything["total"] == 3
    assert [i["file_name"] for i in everything["items"]][0] == "medical_2025-02_3.csv"  # newest first
    rejected = c.get("/api/v1/feeds/loads", params={"status": "rejected"}).json()
    assert rejected["total"] == 1 and rejected["items"][0]["error_count"] == 1
    assert rejected["items"][0]["status_label"] == "已拒收"
    assert c.get("/api/v1/feeds/loads", params={"feed": "social_insurance"}).json()["total"] == 2
    assert c.get("/api/v1/feeds/loads", params={"month": "2025-02"}).json()["total"] == 2
    page2 = c.get("/api/v1/feeds/loads", params={"page": 2, "page_size": 2}).json()
    assert len(page2["items"]) == 1 and page2["total"] == 3
    for params, field in [({"feed": "nope"}, "feed"), ({"month": "2025-13"}, "month"),
                          ({"status": "maybe"}, "status")]:
        r = c.get("/api/v1/feeds/loads", params=params)
        assert r.status_code == 400 and r.json()["field"] == field
    grid = client_as("grid_worker", "370402001001")
    assert grid.get("/api/v1/feeds/loads").status_code == 403
    # a department liaison sees the ledger of their own department's feeds only
    medical = client_as("department_liaison", PROVINCE, department="medical_insurance")
    assert [i["feed"] for i in medical.get("/api/v1/feeds/loads").json()["items"]] == ["medical"]
    assert medical.get("/api/v1/feeds/loads", params={"feed": "social_insurance"}).json()["total"] == 0
    hr = client_as("department_liaison", PROVINCE, department="hr_social_security")
    assert hr.get("/api/v1/feeds/loads").json()["total"] == 2


def test_standards_in_force_and_history(engine, client_as):
    from safetynet.standards import service as standards_service

    standards_service.derive_from_dibao(engine, region="37", effective_from=dt.date(2024, 1, 1),
                                        dibao_fen={"urban": 80000, "rural": 60000}, source="鲁民〔2024〕1号")
    standards_service.derive_from_dibao(engine, region="370402", effective_from=dt.date(2024, 7, 1),
                                        dibao_fen={"urban": 90000}, source="枣民〔2024〕7号")
    standards_service.derive_from_dibao(engine, region="370402", effective_from=dt.date(2025, 7, 1),
                                        dibao_fen={"urban": 95000}, source="枣民〔2025〕3号")
    c = client_as("township_caseworker", TOWNSHIP)
    own = c.get("/api/v1/standards", params={"kind": "dibao"}).json()   # default: the township
    assert own["region"]["code"] == TOWNSHIP
    assert {(s["registration"], s["region_code"], s["amount_fen"]) for s in own["in_force"]} == {
        ("urban", COUNTY, 95000), ("rural", PROVINCE, 60000)}
    assert own["total"] == 0   # the township sets no standard of its own
    county = c.get("/api/v1/standards", params={"region": "370402001"}).json()
    assert county["region"]["code"] == TOWNSHIP
    admin = client_as("county_admin", COUNTY)
    hist = admin.get("/api/v1/standards", params={"kind": "dibao"}).json()
    assert [(s["effective_from"], s["amount_fen"]) for s in hist["items"]] == [
        ("2025-07-01", 95000), ("2024-07-01", 90000)]
    assert hist["items"][0]["kind_label"] and hist["items"][0]["source"] == "枣民〔2025〕3号"
    everything = admin.get("/api/v1/standards").json()
    assert everything["total"] > 2 and len({s["kind"] for s in everything["in_force"]}) > 1
    assert c.get("/api/v1/standards", params={"region": COUNTY}).status_code == 404
    bad = admin.get("/api/v1/standards", params={"kind": "gold"})
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    assert client_as("charity", COUNTY).get("/api/v1/standards").status_code == 403
