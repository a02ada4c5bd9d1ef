"""One's own account in a real browser: the password change round trip (header user menu →
修改密码, then sign out and in with the new password), and the shared tier-history table of the
household and person pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from safetynet.config import get_settings
from tests.e2e.conftest import E2E_PASSWORD, SCREENSHOTS, ApiClient, DemoSite, field, sign_in

pytestmark = pytest.mark.slow  # a live server and a browser

NEW_PASSWORD = "Changed2026pass"


def _create_user(site: DemoSite, username: str, role: str = "township_caseworker",
                 region: str | None = None) -> None:
    with site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": username, "password": E2E_PASSWORD, "role": role,
                                       "region_code": region or site.township,
                                       "display_name": f"测试·{username}"})
    assert r.status_code in (200, 201), r.text
    site.users[username] = E2E_PASSWORD


def _shot(page, name: str) -> None:  # noqa: ANN001
    """A screenshot of a step (the fixture adds one of the last state of every page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"account-{name}.png"), full_page=True)


def _open_change_password(page) -> None:  # noqa: ANN001
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-change-password").click()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.get_by_test_id("change-password")).to_be_visible()


def _field_error(page, test_id: str, message: str):  # noqa: ANN001, ANN202
    """The error shown under the form field marked data-test=test_id (an error being replaced
    fades out for a moment: look for the message, not for the only error element)."""
    item = page.locator(f".el-form-item:has([data-test={test_id}])")
    return item.locator(".el-form-item__error", has_text=message)


def _fill(page, current: str, new: str, again: str | None = None) -> None:  # noqa: ANN001
    field(page, "current-password").fill(current)
    field(page, "new-password").fill(new)
    field(page, "confirm-password").fill(new if again is None else again)
    page.get_by_test_id("password-submit").click()


def test_password_change_round_trip(demo_site: DemoSite, new_page):
    _create_user(demo_site, "e2e_pw")
    page = new_page()
    elsewhere = new_page()  # the same user signed in in another browser
    sign_in(page, demo_site, "e2e_pw")
    sign_in(elsewhere, demo_site, "e2e_pw")
    _open_change_password(page)
    expect(page.get_by_test_id("change-password")).to_contain_text("至少 10 位")
    # mistakes are named at the field they concern, in Chinese
    _fill(page, E2E_PASSWORD, NEW_PASSWORD, again="Different2026x")
    expect(_field_error(page, "confirm-password", "两次输入的新密码不一致")).to_be_visible()
    _fill(page, "Wrong2026pass", NEW_PASSWORD)
    expect(_field_error(page, "current-password", "当前密码不正确")).to_be_visible()
    _fill(page, E2E_PASSWORD, "short1")
    expect(_field_error(page, "new-password", "至少 10 位")).to_be_visible()
    _shot(page, "policy-error")
    _fill(page, E2E_PASSWORD, NEW_PASSWORD)
    expect(page.get_by_test_id("password-done")).to_contain_text("密码已修改，其他 1 处登录已退出")
    _shot(page, "changed")
    # the other browser's session has ended; this one is still signed in
    elsewhere.goto(demo_site.url("/households"))
    expect(elsewhere).to_have_url(re.compile(r"/login"))
    page.goto(demo_site.url("/households"))
    expect(page.get_by_test_id("household-search")).to_be_visible()
    # sign out, then the old password is refused and the new one accepted
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    field(page, "username").fill("e2e_pw")
    field(page, "password").fill(E2E_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    demo_site.users["e2e_pw"] = NEW_PASSWORD
    sign_in(page, demo_site, "e2e_pw")
    expect(page.get_by_test_id("user-name")).to_have_text("测试·e2e_pw")
    _shot(page, "signed-in-with-new-password")


def test_change_password_page_in_english(demo_site: DemoSite, new_page):
    _create_user(demo_site, "e2e_pw_en")
    page = new_page()
    sign_in(page, demo_site, "e2e_pw_en")
    page.get_by_test_id("lang-switch").click()
    page.get_by_test_id("lang-en").click()
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_test_id("menu-change-password")).to_have_text("Change password")
    page.get_by_test_id("menu-change-password").click()
    form = page.get_by_test_id("change-password")
    expect(form).to_contain_text("At least 10 characters")
    _fill(page, E2E_PASSWORD, "e2e_pw_en-2026x")  # contains the username
    expect(_field_error(page, "new-password", "must not contain the username")).to_be_visible()
    _shot(page, "english")


def test_tier_history_on_household_and_person_pages(demo_site: DemoSite, new_page):
    hh = demo_site.household  # a dibao household: its current tier interval is open-ended
    current = next(t for t in hh["detail"]["tier_history"] if t["until"] is None)
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    page.goto(demo_site.url(f"/households/{hh['household_no']}"))
    page.get_by_role("tab", name="救助类别及历史").click()
    table = page.get_by_test_id("tier-history").first
    rows = table.locator(".el-table__body tr")
    expect(rows).to_have_count(len(hh["detail"]["tier_history"]))
    expect(rows.first).to_contain_text("低保")
    expect(rows.first).to_contain_text(current["since"])
    expect(rows.first).to_contain_text("至今")
    _shot(page, "household-tier-history")
    # a member's page uses the same table, with the household of each interval as a link
    head = next(m for m in hh["detail"]["members"] if m["relation"] == "head")
    with demo_site.api("e2e_caseworker") as api:
        person = api.get(f"/persons/{head['person_id']}").json()
    assert person["tier_history"], person
    page.goto(demo_site.url(f"/persons/{head['person_id']}"))
    rows = page.get_by_test_id("tier-history").locator(".el-table__body tr")
    expect(rows).to_have_count(len(person["tier_history"]))
    latest = person["tier_history"][0]
    expect(rows.first.get_by_role("link", name=latest["household_no"])).to_be_visible()
    if latest["until"] is None:
        expect(rows.first).to_contain_text("至今")
    # the caseworker reads benefit amounts (registry.sensitive, audited): shown per interval in yuan
    fen = person["sensitive"]["tiers"][0]["monthly_benefit_fen"]
    if fen is not None:
        expect(rows.first).to_contain_text(f"{fen // 100}.{fen % 100:02d}")
    _shot(page, "person-tier-history")


def test_administrator_sees_a_locked_account_and_unlocks_it(demo_site: DemoSite, new_page):
    _create_user(demo_site, "e2e_unlock")
    with ApiClient(demo_site.url("/api/v1")) as anonymous:
        for _ in range(get_settings().login_lockout_attempts):
            anonymous.post("/auth/login", json={"username": "e2e_unlock", "password": "Wrong2026pass"})
        r = anonymous.post("/auth/login", json={"username": "e2e_unlock", "password": E2E_PASSWORD})
    assert r.json()["code"] == "invalid_credentials"  # locked (from here): answered like a wrong password
    county = demo_site.household["detail"]["region_path"][2]["code"]
    _create_user(demo_site, "e2e_county_admin", role="county_admin", region=county)
    page = new_page()
    sign_in(page, demo_site, "e2e_county_admin")
    page.get_by_test_id("menu-users").click()
    expect(page.get_by_test_id("locked-e2e_unlock")).to_have_text("已锁定")
    users = page.get_by_test_id("users-table")
    users.locator("tr", has_text="e2e_unlock").get_by_role("button").click()
    page.get_by_test_id("user-unlock").click()
    expect(page.get_by_test_id("user-unlock")).to_have_class(re.compile(r"\bis-checked\b"))
    _shot(page, "unlock")
    page.get_by_role("dialog").get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("locked-e2e_unlock")).to_have_count(0)
    # the administrator's own row offers no password reset: that is the account page's job
    users.locator("tr", has_text="e2e_county_admin").get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("修改本人密码请使用")
    expect(dialog.get_by_test_id("user-password")).to_have_count(0)
    with demo_site.api("e2e_unlock") as unlocked:
        assert unlocked.get("/auth/me").json()["username"] == "e2e_unlock"
