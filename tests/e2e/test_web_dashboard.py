"""Dashboard, standards and the verification report in a real browser (issue 16 items 3, 7, 11, 12):
the warning-level chart in Chinese with each level's colour and its count, the sub-region table
busiest first and sortable, an empty region's plain 暂无数据, the counties' standards at province
level, and the household's verification report (refused without the family's authorisation, shown
with it, closed to a role without the capability)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DemoSite, sign_in

pytestmark = pytest.mark.slow  # a live server and a browser

LEVELS = {"blue": ("蓝色预警", (0x1E, 0x6F, 0xD9)), "yellow": ("黄色预警", (0xE6, 0xB8, 0x00)),
          "orange": ("橙色预警", (0xF0, 0x7C, 0x00)), "red": ("红色预警", (0xD3, 0x2F, 0x2F))}
INTERNAL = re.compile(r"social_insurance|income\.counted|\.parquet|not_authorised|verification\.read")

# the number of canvas pixels of exactly one colour (bar interiors are drawn in their flat colour)
COUNT_COLOUR = """([el, rgb]) => {
  const c = el.querySelector('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] === rgb[0] && d[i + 1] === rgb[1] && d[i + 2] === rgb[2]) n++;
  }
  return n; }"""


def _numbers(texts: list[str]) -> list[int]:
    return [int(t.replace(",", "").strip()) for t in texts]


def test_dashboard_chart_table_and_empty_region(demo_site: DemoSite, new_page) -> None:  # noqa: ANN001
    with demo_site.api("province_admin") as admin:
        summary = admin.get("/dashboard/summary").json()
    page = new_page()
    sign_in(page, demo_site, "province_admin")
    page.goto(demo_site.url("/dashboard"))
    chart = page.get_by_test_id("warnings-chart")
    expect(chart).to_be_visible()
    # the chart names the levels in Chinese and gives each bar's count (its aria description)
    page.wait_for_function("el => (el.getAttribute('aria-label') || '').includes('红色预警')",
                           arg=chart.element_handle())
    aria = chart.get_attribute("aria-label")
    counts = summary["warnings_by_level"]
    assert sum(counts.values()) > 0
    for level, (label, rgb) in LEVELS.items():
        assert label in aria and str(counts[level]) in aria, (level, aria)
        # each bar in its level's colour (red shown red): on the canvas iff the level has warnings
        drawn = page.evaluate(COUNT_COLOUR, [chart.element_handle(), list(rgb)])
        assert (drawn > 0) == (counts[level] > 0), (level, drawn, counts[level])
    assert not re.search(r"\b(blue|yellow|orange|red)\b", aria), aria

    # sub-regions: busiest first, every row shown (no 260 px box), sortable by households
    table = page.get_by_test_id("children-table")
    persons = _numbers(table.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert persons == sorted(persons, reverse=True) and len(persons) == min(20, len(summary["children"]))
    busiest = max(summary["children"], key=lambda c: c["persons"])
    assert table.locator("tbody tr").first.inner_text().startswith(busiest["name"])
    assert table.locator(".el-table__body-wrapper .el-scrollbar__wrap").evaluate(
        "el => el.scrollHeight <= el.clientHeight + 1")
    header = table.locator("thead th").nth(2)
    header.click()  # ascending
    households = _numbers(table.locator("tbody tr td:nth-child(3)").all_inner_texts())
    assert households == sorted(households)
    header.click()  # descending
    households = _numbers(table.locator("tbody tr td:nth-child(3)").all_inner_texts())
    assert households == sorted(households, reverse=True)

    # a region with nobody registered: 暂无数据 and what it means, no empty bar chart
    empty = next(c for c in summary["children"] if c["persons"] == 0)
    page.goto(demo_site.url(f"/dashboard?region={empty['code']}"))
    alert = page.get_by_test_id("region-empty")
    expect(alert).to_contain_text("暂无数据")
    expect(alert).to_contain_text(empty["name"])
    expect(alert).to_contain_text("名册")
    expect(page.get_by_test_id("children-chart")).to_have_count(0)
    expect(page.get_by_test_id("children-empty")).to_be_visible()


def test_standards_at_province_level_list_the_counties(demo_site: DemoSite, new_page) -> None:  # noqa: ANN001
    page = new_page()
    sign_in(page, demo_site, "province_admin")
    page.goto(demo_site.url("/standards"))
    box = page.get_by_test_id("standards-counties")
    expect(box).to_be_visible()
    expect(page.get_by_test_id("standards-per-county-note")).to_contain_text("由各县（区）制定")
    table = page.get_by_test_id("standards-county-table")
    expect(table.locator("tbody tr")).to_have_count(20)
    first = table.locator("tbody tr").first.inner_text()
    assert re.search(r"\d+\.\d\d", first), first   # values in yuan, not 暂无数据
    assert "暂无数据" not in box.inner_text()
    # the county's own page: its standards in force
    table.locator("tbody tr a").first.click()
    expect(page.get_by_test_id("standards-in-force").locator("tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("standards-counties")).to_have_count(0)


def test_verification_tab(demo_site: DemoSite, new_page) -> None:  # noqa: ANN001
    no = demo_site.household["household_no"]
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    page.goto(demo_site.url(f"/households/{no}"))
    page.get_by_role("tab", name="核对报告").click()
    refused = page.get_by_test_id("verification-not-authorised")
    expect(refused).to_contain_text("没有有效的经济状况核对授权")
    expect(refused).to_contain_text("授权书")
    assert not INTERNAL.search(page.get_by_test_id("verification-report").inner_text())

    with demo_site.api("e2e_caseworker") as c:
        r = c.post(f"/households/{no}/authorisations", json={
            "signed_on": "2025-01-05", "scope": ["income", "assets", "deposits", "medical", "education"],
            "signer": "测试签署人", "document": "E2E-SQ-001"})
        assert r.status_code == 201, r.text
        report = c.get(f"/households/{no}/verification", params={"month": "2025-02"}).json()
    page.reload()
    page.get_by_role("tab", name="核对报告").click()
    picker = page.get_by_test_id("verification-report").locator("input").first
    picker.fill("2025-02")
    picker.press("Enter")
    head = page.get_by_test_id("verification-head")
    expect(head).to_contain_text("2024-03 至 2025-02")
    expect(head).to_contain_text("银行存款")            # the scopes by name
    income = page.get_by_test_id("verification-income")
    expect(income).to_contain_text("工资性收入")
    expect(income).to_contain_text("不计入")
    per_capita = report["totals"]["income"]["per_capita_counted_average_fen"]
    yuan = f"{per_capita // 100}.{per_capita % 100:02d}"
    # the report is computed from the lake on request: seconds when the machine is busy (CI's two workers)
    expect(page.get_by_test_id("verification-per-capita")).to_have_text(yuan, timeout=30_000)
    members = page.get_by_test_id("verification-members")
    expect(members).to_contain_text(report["members"][0]["relation_label"])
    # the rows behind a figure, on request, if the household has any
    button = members.locator("[data-test^=rows-]").first
    if button.count():
        button.click()
        expect(members.locator("[data-test^=trace-]").first).to_contain_text("数据来源")
    assert not INTERNAL.search(page.get_by_test_id("verification-report").inner_text())

    # a grid worker may see the household but not its economic data
    grid = new_page()
    sign_in(grid, demo_site, "e2e_grid")
    grid.goto(demo_site.url(f"/households/{no}"))
    grid.get_by_role("tab", name="核对报告").click()
    expect(grid.get_by_test_id("verification-no-capability")).to_contain_text("没有查看核对报告的权限")
