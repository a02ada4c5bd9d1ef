"""Every list page has 导出 (issue 16), in a real browser against the live demo server: the township
caseworker downloads the household search, the warnings and the tasks, the auditor the audit log; each
download is an .xlsx whose table has the list's Chinese headers. The medical liaison's task page offers
批量反馈 with its instructions, and a file that is not the export is refused with a message in Chinese
that names what to upload."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from tests.e2e.conftest import DemoSite, field, sign_in

pytestmark = pytest.mark.slow  # a live server and a browser

#: page → (its data-test, the first header of its table in the download)
PAGES = {
    "/households": ("household-search", "户编号"),
    "/warnings": ("warnings-page", "预警编号"),
    "/tasks": ("tasks-page", "任务编号"),
}


def _download(page) -> list[list]:  # noqa: ANN001
    with page.expect_download() as info:
        page.get_by_test_id("export").first.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as f:
        data = f.read()
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _has_header(rows: list[list], first: str) -> bool:
    return any(row and row[0] == first for row in rows)


def test_each_list_page_exports_what_it_lists(new_page, demo_site: DemoSite):
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    for path, (test_id, first) in PAGES.items():
        page.goto(demo_site.url(path))
        page.get_by_test_id(test_id).wait_for()
        expect(page.get_by_test_id("export").first).to_have_text("导出")
        rows = _download(page)
        assert _has_header(rows, first), (path, rows[:8])
        assert rows[0][:2] == ["名称", rows[0][1]] and any(r[0] == "导出人" and r[1] == "e2e_caseworker"
                                                          for r in rows[:6])
    page.goto(demo_site.url("/tasks"))
    page.get_by_test_id("tasks-page").wait_for()
    expect(page.get_by_test_id("bulk-upload")).to_have_count(0)  # the bulk answer is a liaison's
    # an identity number with a wrong check digit is called so, not "no data"
    page.goto(demo_site.url("/households"))
    field(page, "q-id").fill("370402197504020234")  # …0233 is valid
    page.get_by_test_id("q-submit").click()
    expect(page.get_by_test_id("household-search")).to_contain_text("校验位有误：末位为 4，按前 17 位应为 3")

    auditor = new_page()
    sign_in(auditor, demo_site, "auditor")
    auditor.goto(demo_site.url("/audit"))
    auditor.get_by_test_id("audit-table").wait_for()
    rows = _download(auditor)
    assert _has_header(rows, "时间（北京时间）")
    # the caseworker's exports above are in the log, as exports of the lists, in Chinese
    table = auditor.get_by_test_id("audit-table")
    expect(table).to_contain_text("导出")
    expect(table).to_contain_text("任务列表")


def test_a_liaison_has_bulk_feedback_and_a_wrong_file_is_named(new_page, demo_site: DemoSite, tmp_path):
    page = new_page()
    sign_in(page, demo_site, "liaison_medical")
    page.goto(demo_site.url("/tasks"))
    page.get_by_test_id("tasks-page").wait_for()
    expect(page.get_by_test_id("bulk-hint")).to_contain_text("批量反馈")
    rows = _download(page)
    header = next(r for r in rows if r and r[0] == "任务编号")
    assert header[-6:] == ["反馈结果", "帮扶类别", "帮扶日期", "帮扶金额（元）", "不予帮扶理由", "反馈说明"]
    wrong = tmp_path / "not-the-export.xlsx"
    wrong.write_bytes(b"not a workbook")
    page.get_by_test_id("bulk-upload").locator("input[type=file]").set_input_files(str(wrong))
    expect(page.get_by_test_id("bulk-error")).to_contain_text("批量反馈未保存")
    expect(page.get_by_test_id("bulk-error")).to_contain_text("任务表")
