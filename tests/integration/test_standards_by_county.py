"""Standards at province and city level (issue 16 item 7): standards are set per county, so a
province or city sees every county below it with the values in force there; on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

from safetynet.standards import service as standards_service

PROVINCE, CITY, COUNTY, OTHER = "370000000000", "370400000000", "370402000000", "370403000000"


def _seed(engine) -> None:  # noqa: ANN001
    # one county with its own standards, the province's default for everyone else
    standards_service.derive_from_dibao(engine, region="37", effective_from=dt.date(2024, 1, 1),
                                        dibao_fen={"urban": 80000, "rural": 60000}, source="鲁民〔2024〕1号")
    standards_service.derive_from_dibao(engine, region="370402", effective_from=dt.date(2025, 7, 1),
                                        dibao_fen={"urban": 95000}, source="枣民〔2025〕3号")
    # a future value is not in force yet
    standards_service.derive_from_dibao(engine, region="370403", effective_from=dt.date(2099, 1, 1),
                                        dibao_fen={"urban": 99900}, source="future")


def test_province_sees_every_county_with_values_in_force(engine, client_as):
    _seed(engine)
    c = client_as("province_admin", PROVINCE)
    out = c.get("/api/v1/standards").json()
    counties = {x["code"]: x for x in out["counties"]}
    # every county of the province is listed, with its city's name (names, not codes)
    assert len(counties) > 100 and all(x["name"] and x["city"] for x in counties.values())
    own, other = counties[COUNTY], counties[OTHER]
    assert own["name"] == "市中区" and own["city"] == "枣庄市" and own["own"] is True
    assert own["values"]["urban"]["dibao"] == 95000          # the county's own value wins
    assert own["values"]["rural"]["dibao"] == 60000          # a registration it did not set: the province's
    assert own["effective_from"] == "2025-07-01"
    assert other["own"] is False and other["values"]["urban"]["dibao"] == 80000   # its 2099 value not yet
    far = next(x for x in counties.values() if not x["code"].startswith("3704"))
    assert far["own"] is False and far["values"]["urban"]["dibao"] == 80000
    assert len(own["values"]["urban"]) > 1 and out["kind_labels"]["dibao"] == "低保标准"
    only = c.get("/api/v1/standards", params={"kind": "dibao"}).json()
    assert {k for x in only["counties"] for reg in x["values"].values() for k in reg} == {"dibao"}


def test_city_sees_its_counties_and_a_county_does_not_get_the_list(engine, client_as):
    _seed(engine)
    city = client_as("city_admin", CITY).get("/api/v1/standards").json()
    assert city["region"]["code"] == CITY
    codes = {x["code"] for x in city["counties"]}
    assert {c[:4] for c in codes} == {"3704"} and COUNTY in codes
    county = client_as("county_admin", COUNTY).get("/api/v1/standards").json()
    assert "counties" not in county and county["total"] > 0
