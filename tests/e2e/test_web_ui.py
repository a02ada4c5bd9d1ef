"""The caseworker's web UI in a real browser (chromium) against the live demo server."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from safetynet.auth.model import ROLE_CAPABILITIES, ROLE_LABELS, Role
from safetynet.config import get_settings
from tests.e2e.conftest import E2E_PASSWORD, DemoSite, field, sign_in

# menu entry (data-test="menu-<name>") → the capability that shows it; mirrors web/src/menu.js
MENU = {"dashboard": "dashboard.read", "households": "registry.read", "feeds": "feeds.read",
        "standards": "standards.read", "audit": "audit.read", "users": "users.admin"}
DEMO_ROLES = {"province_admin": Role.province_admin, "city_admin": Role.city_admin,
              "county_admin": Role.county_admin, "caseworker": Role.township_caseworker,
              "reviewer": Role.township_reviewer, "grid_worker": Role.grid_worker,
              "liaison_medical": Role.department_liaison, "charity": Role.charity, "auditor": Role.auditor,
              "data_officer": Role.data_officer}
pytestmark = pytest.mark.slow  # a live server and a browser: minutes, still in the suite

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
FULL_ID = re.compile(r"^\d{17}[\dX]$")


@pytest.mark.parametrize("username", list(DEMO_ROLES))
def test_sign_in_per_role_shows_the_menu_of_its_capabilities(demo_site: DemoSite, new_page, username):
    page = new_page()
    sign_in(page, demo_site, username)
    caps = ROLE_CAPABILITIES[DEMO_ROLES[username]]
    for name, cap in MENU.items():
        item = page.get_by_test_id(f"menu-{name}")
        if cap in caps:
            expect(item).to_be_visible()
        else:
            expect(item).to_have_count(0)
    expect(page.get_by_test_id("role-label")).to_have_text(ROLE_LABELS[DEMO_ROLES[username]]["zh"])
    expect(page.get_by_test_id("user-name")).to_contain_text("演示")
    expect(page.get_by_test_id("region-name")).not_to_be_empty()
    # a page outside the role's capabilities answers the 403 page, not an empty screen
    if "users.admin" not in caps:
        page.goto(demo_site.url("/users"))
        expect(page.get_by_test_id("forbidden-page")).to_contain_text("无权访问")


def test_wrong_password_says_so_and_stays_on_sign_in(demo_site: DemoSite, new_page):
    page = new_page()
    page.goto(demo_site.url("/households"))  # not signed in: sent to sign-in, remembering the target
    expect(page).to_have_url(re.compile(r"/login\?redirect="))
    field(page, "username").fill("caseworker")
    field(page, "password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/login"))
    # the right password then lands on the page first asked for
    field(page, "password").fill(demo_site.users["caseworker"])
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("household-search")).to_be_visible()


def test_dashboard_shows_chinese_counts_and_drills_down_to_a_village(demo_site: DemoSite, new_page):
    page = new_page()
    sign_in(page, demo_site, "province_admin")
    page.goto(demo_site.url("/dashboard"))
    expect(page.get_by_test_id("tier-dibao")).to_contain_text("低保")
    expect(page.get_by_test_id("total-persons")).to_have_text(f"{demo_site.persons:,}")
    expect(page.get_by_test_id("children-chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("trend-chart").locator("canvas").first).to_be_visible()
    # the demo runs the monthly monitoring: the latest month's warnings by level
    expect(page.get_by_test_id("warnings-chart").locator("canvas").first).to_be_visible()
    crumbs = page.get_by_test_id("region-breadcrumb")
    expect(crumbs).to_contain_text("山东省")
    # follow the household's own region path: city → county → township → village
    path = demo_site.household["detail"]["region_path"]
    for depth, region in enumerate(path[1:], start=2):
        page.get_by_test_id(f"drill-{region['code']}").click()
        expect(page).to_have_url(re.compile(f"region={region['code']}"))
        expect(crumbs.locator(".el-breadcrumb__item")).to_have_count(depth)
        expect(crumbs).to_contain_text(region["name"])
    assert path[-1]["level"] == "village"
    # below the village: its grids, and the household's grid is the last level
    grid = demo_site.household["detail"]["grid_code"]
    expect(page.get_by_test_id("children-table")).to_contain_text("网格")
    page.get_by_test_id(f"drill-{grid}").click()
    expect(crumbs.locator(".el-breadcrumb__item")).to_have_count(len(path) + 1)
    expect(page.locator("[data-test=dashboard]")).to_contain_text("已是最末级区划")
    assert int(page.get_by_test_id("total-persons").inner_text().replace(",", "")) >= 1
    # the breadcrumb leads back up
    page.get_by_test_id(f"crumb-{path[0]['code']}").click()
    expect(crumbs.locator(".el-breadcrumb__item")).to_have_count(1)
    expect(page.get_by_test_id("total-persons")).to_have_text(f"{demo_site.persons:,}")


def test_search_open_household_masked_then_unmask_with_purpose(demo_site: DemoSite, new_page):
    hh = demo_site.household
    last4 = hh["head_id_number"][-4:]
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    page.get_by_test_id("menu-households").click()
    field(page, "q-id").fill("12345")  # neither 18 characters nor the last 4
    page.get_by_test_id("q-submit").click()
    expect(page.locator(".el-form-item__error")).to_contain_text("后 4 位")
    field(page, "q-id").fill(last4)
    page.get_by_test_id("q-submit").click()
    link = page.get_by_test_id(f"hh-{hh['household_no']}")
    expect(link).to_be_visible()
    rows = page.get_by_test_id("household-table").locator(".el-table__body tr")
    # the table may still show the rows of the page's first listing for a moment: wait for them to go
    expect(rows.filter(has_not_text=last4)).to_have_count(0)
    for text in rows.all_inner_texts():  # every row is masked and ends in the searched digits
        ids = re.findall(r"\d{6}\*{8}\d{3}[\dX]", text)
        assert ids and all(i.endswith(last4) for i in ids), text
    link.click()
    expect(page.get_by_test_id("household-no")).to_have_text(hh["household_no"])
    head = next(m for m in hh["detail"]["members"] if m["relation"] == "head")
    pid = str(head["person_id"])
    shown_id = page.get_by_test_id(f"member-id-{pid}")
    expect(shown_id).to_have_text(MASKED_ID)
    page.get_by_test_id(f"unmask-{pid}").click()
    dialog = page.get_by_test_id("unmask-dialog")
    dialog.get_by_test_id("unmask-confirm").click()  # no purpose: refused in the dialog
    expect(dialog).to_contain_text("请填写查询事由")
    field(page, "unmask-purpose").fill("入户核查，核对身份证件")
    dialog.get_by_test_id("unmask-confirm").click()
    expect(shown_id).to_have_text(FULL_ID)
    full = shown_id.inner_text()
    assert full[:6] == head["id_number"][:6] and full[-4:] == head["id_number"][-4:]
    # the unmask is in the audit log with its purpose, and the value itself is not
    with demo_site.api("auditor") as auditor:
        rows = auditor.get("/audit", params={"actor": "e2e_caseworker", "action": "unmask"}).json()["items"]
    mine = [r for r in rows if r["object_id"] == pid]
    assert mine and mine[0]["purpose"] == "入户核查，核对身份证件" and mine[0]["result"] == "ok"
    assert full not in str(mine)
    # a member's own page: masked again (unmasking is per view), with the tier history
    page.get_by_test_id(f"member-name-{pid}").click()
    expect(page.get_by_test_id("person-id-number")).to_have_text(MASKED_ID)
    expect(page.get_by_test_id(f"unmask-{pid}")).to_be_visible()
    expect(page.get_by_test_id("person-detail")).to_contain_text(hh["household_no"])


def test_grid_worker_on_a_phone_has_a_drawer_menu_and_no_unmask(demo_site: DemoSite, new_page):
    hh = demo_site.household
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, demo_site, "e2e_grid")
    expect(page.get_by_test_id("side-menu")).to_have_count(0)  # no fixed menu under 768 px
    page.get_by_test_id("menu-toggle").click()
    page.get_by_test_id("menu-households").click()
    expect(page.get_by_test_id("household-search")).to_be_visible()
    page.goto(demo_site.url(f"/households/{hh['household_no']}"))
    expect(page.get_by_test_id("household-no")).to_have_text(hh["household_no"])
    pid = str(hh["detail"]["members"][0]["person_id"])
    expect(page.get_by_test_id(f"member-id-{pid}")).to_have_text(MASKED_ID)
    expect(page.locator("[data-test^=unmask-]")).to_have_count(0)
    # the dashboard starts at the grid; the regions above it are named but are not links
    page.goto(demo_site.url("/dashboard"))
    province = hh["detail"]["region_path"][0]
    expect(page.get_by_test_id("region-breadcrumb")).to_contain_text(province["name"])
    expect(page.locator(f"a[data-test=crumb-{province['code']}]")).to_have_count(0)
    expect(page.get_by_test_id(f"crumb-{hh['detail']['grid_code']}")).to_be_visible()
    # and the server refuses the unmask call itself for this role
    with demo_site.api("e2e_grid") as grid:
        r = grid.post(f"/persons/{pid}/unmask", json={"purpose": "试图查看"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_switch_to_english_is_remembered(demo_site: DemoSite, new_page):
    page = new_page()
    sign_in(page, demo_site, "county_admin")
    expect(page.get_by_test_id("menu-dashboard")).to_contain_text("监测总览")
    page.get_by_test_id("lang-switch").click()
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("menu-dashboard")).to_contain_text("Dashboard")
    expect(page.get_by_test_id("sign-out")).to_contain_text("Sign out")
    expect(page.get_by_test_id("role-label")).to_have_text("County administrator")
    page.reload()
    expect(page.get_by_test_id("menu-households")).to_contain_text("Households")
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("login-submit")).to_contain_text("Sign in")


def test_caseworker_opening_another_townships_household_sees_not_found(demo_site: DemoSite, new_page):
    other = demo_site.other_household
    page = new_page()
    sign_in(page, demo_site, "e2e_caseworker")
    page.goto(demo_site.url(f"/households/{other['household_no']}"))
    expect(page.get_by_test_id("not-found-page")).to_contain_text("不在您的辖区内")
    expect(page.get_by_test_id("household-no")).to_have_count(0)
    # the same answer as a household that does not exist at all
    page.goto(demo_site.url("/households/H999999999"))
    expect(page.get_by_test_id("not-found-page")).to_be_visible()
    page.goto(demo_site.url("/no/such/page"))
    expect(page.get_by_test_id("not-found-page")).to_contain_text("404")


def test_auditor_searches_the_audit_log_and_data_officer_sees_the_feed_ledger(demo_site: DemoSite, new_page):
    page = new_page()
    sign_in(page, demo_site, "auditor")
    page.get_by_test_id("menu-audit").click()
    table = page.get_by_test_id("audit-table")
    expect(table).to_contain_text("登录")
    expect(table).to_contain_text("auditor")
    page2 = new_page()
    sign_in(page2, demo_site, "data_officer")
    page2.get_by_test_id("menu-feeds").click()
    expect(page2.get_by_test_id("feed-loads")).to_contain_text("数据接入台账")
    expect(page2.locator(".el-alert--error")).to_have_count(0)


def test_province_admin_lists_users_and_county_standards(demo_site: DemoSite, new_page):
    page = new_page()
    sign_in(page, demo_site, "province_admin")
    page.get_by_test_id("menu-users").click()
    users = page.get_by_test_id("users-table")
    expect(users).to_contain_text("caseworker")
    expect(users).to_contain_text("乡镇经办人")
    county = demo_site.household["detail"]["region_path"][2]
    with demo_site.api("province_admin") as admin:
        in_force = admin.get("/standards", params={"region": county["code"]}).json()["in_force"]
    dibao = next(s for s in in_force if s["kind"] == "dibao")
    page.goto(demo_site.url(f"/standards?region={county['code']}"))
    table = page.get_by_test_id("standards-in-force")
    expect(table).to_contain_text("低保标准")
    # integer fen shown as yuan with two decimals
    expect(table).to_contain_text(f"{dibao['amount_fen'] // 100}.{dibao['amount_fen'] % 100:02d}")


def _create_user(site: DemoSite, username: str, role: str, region: str) -> None:
    with site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": username, "password": E2E_PASSWORD, "role": role,
                                       "region_code": region, "display_name": f"测试·{username}"})
    assert r.status_code in (200, 201), r.text
    site.users[username] = E2E_PASSWORD


def test_administrator_with_two_factor_is_asked_for_the_code(demo_site: DemoSite, new_page):
    county = demo_site.household["detail"]["region_path"][2]["code"]
    _create_user(demo_site, "e2e_totp_admin", "county_admin", county)
    with demo_site.api("e2e_totp_admin") as me:  # signed in to enrol only (an administrator must)
        secret = me.post("/auth/totp/setup").json()["secret"]
        now = time.time()
        r = me.post("/auth/totp/confirm", json={"code": pyotp.TOTP(secret).at(now)})
        demo_site.remember_totp("e2e_totp_admin", secret, spent_at=now)
        assert r.status_code == 200, r.text
    page = new_page()
    page.goto(demo_site.url("/login"))
    expect(page.get_by_test_id("totp")).to_have_count(0)
    field(page, "username").fill("e2e_totp_admin")
    field(page, "password").fill(E2E_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("动态验证码")
    field(page, "totp").fill(demo_site.code("e2e_totp_admin"))  # codes are single-use: not the one confirmed
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_have_text("测试·e2e_totp_admin")


def test_repeated_wrong_passwords_lock_the_account_with_a_message(demo_site: DemoSite, new_page):
    _create_user(demo_site, "e2e_locked", "township_caseworker", demo_site.township)
    page = new_page()
    page.goto(demo_site.url("/login"))
    field(page, "username").fill("e2e_locked")
    field(page, "password").fill("wrong-password")
    attempts = get_settings().login_lockout_attempts
    for _ in range(attempts - 1):
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("锁定")
    # now even the right password is refused until the lock expires
    field(page, "password").fill(E2E_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("锁定")
    expect(page).to_have_url(re.compile(r"/login"))
