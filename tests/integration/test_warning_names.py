"""Warnings by names, not codes (issue 16 items 6 and 9): the list and the detail name each warning's
region (county down to village) and its household's grid, and label its indicator value with unit and
meaning in Chinese; the codes stay in the JSON for other systems. The names of a whole page come from
one query on `regions`. Through the real app, on SQLite and PostgreSQL (the `world` of
test_warnings_api: warnings recorded as the engine records them)."""

from __future__ import annotations

import re

from sqlalchemy import event, select

from safetynet.monitoring.names import value_label
from safetynet.regions.store import regions
from tests.factories import VILLAGE
from tests.integration.test_warnings_api import API, GRID_1, TOWNSHIP, world  # noqa: F401 - the fixture

CODE = re.compile(r"[0-9]{12,}")


def _names(engine, *codes: str) -> list[str]:  # noqa: ANN001
    with engine.connect() as c:
        found = dict(c.execute(select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes))).all())
    return [found[c] for c in codes]


def test_list_names_region_and_grid_and_labels_values_with_one_region_query(client_as, world, engine):  # noqa: F811
    _people, w = world
    county, township, village, grid = _names(engine, VILLAGE[:6] + "000000", TOWNSHIP, VILLAGE, GRID_1)
    caseworker = client_as("township_caseworker", TOWNSHIP)
    statements: list[str] = []
    listen = lambda *a: statements.append(a[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        body = caseworker.get(API).json()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    by_id = {i["warning_id"]: i for i in body["items"]}
    medical, hotline = by_id[w["medical"]], by_id[w["hotline"]]
    # the region by name with its county; the household's grid by its name; codes kept beside them
    assert medical["region_name"] == f"{county} · {township} · {village}"
    assert medical["region_code"] == VILLAGE and medical["grid_code"] == GRID_1
    assert medical["grid_name"] == grid and not CODE.search(grid)
    assert [p["code"] for p in medical["region_path"]][-3:] == [VILLAGE[:6] + "000000", TOWNSHIP, VILLAGE]
    # a person known only to the feeds: the village by name, no grid
    assert hotline["region_name"] == medical["region_name"] and hotline["grid_name"] is None
    # values with their unit and meaning, in Chinese
    assert medical["value"] == "0.55" and medical["value_label"] == "自付医疗费为家庭收入的 55%"
    assert hotline["value_label"] == "求助热线来电 1 次"
    # the names of the whole page: one query on regions, not one per row
    region_reads = [s for s in statements if re.search(r"\bFROM regions\b", s)]
    assert len(region_reads) == 1, region_reads


def test_detail_names_region_grid_and_labels_every_firing(client_as, world, engine):  # noqa: F811
    _people, w = world
    county, township, village, grid = _names(engine, VILLAGE[:6] + "000000", TOWNSHIP, VILLAGE, GRID_1)
    body = client_as("township_caseworker", TOWNSHIP).get(f"{API}/{w['medical']}").json()
    assert body["region_name"] == f"{county} · {township} · {village}" and body["grid_name"] == grid
    assert body["region_code"] == VILLAGE and body["grid_code"] == GRID_1
    assert body["value_label"] == "自付医疗费为家庭收入的 55%"
    assert [(f["month"], f["value_label"]) for f in body["firings"]] == [
        ("2026-01", "自付医疗费为家庭收入的 35%"), ("2026-02", "自付医疗费为家庭收入的 55%")]
    # a province reader sees another township's income drop as a drop in words
    province = client_as("province_admin", "370000000000")
    other = province.get(f"{API}/{w['other']}").json()
    assert other["value_label"] == "收入较前期平均下降 60%" and other["region_name"].count(" · ") == 2


def test_value_labels_say_unit_and_meaning_in_chinese():
    assert value_label("medical_oop_ratio_12m", "13.71") == "自付医疗费为家庭收入的 1,371%"
    unbounded = "∞（无计入收入 no counted income）"  # as the engine stores it
    assert value_label("medical_oop_ratio_month", unbounded) == "自付医疗费（家庭无计入收入）"
    assert value_label("disaster_loss_amount", "12,345.00元") == "灾害损失 12,345.00 元"
    assert value_label("active_business_capital", "500,000.00元") == "在营企业出资额 500,000.00 元"
    assert value_label("homes_held", "3") == "名下住房 3 套"
    assert value_label("months_income_above_tier_line", "4个月") == "收入高于保障标准 4 个月"
    assert value_label("income_drop_share_6m", "-35%") == "收入较前期平均下降 35%"
    assert value_label("enrolled_person_died", None) is None
    for label in ("自付医疗费（家庭无计入收入）", "灾害损失 12,345.00 元"):
        assert not re.search(r"[A-Za-z_]", label)
