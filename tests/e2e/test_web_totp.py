"""An administrator's second factor in a real browser: at first sign-in the web UI sends a new
administrator to the enrolment page (key in groups of four and the otpauth URI, as text), the
API refuses everything else meanwhile, and once confirmed the next sign-in asks for a code."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import E2E_PASSWORD, SCREENSHOTS, ApiClient, DemoSite, field

pytestmark = pytest.mark.slow  # a live server and a browser


def test_a_new_administrator_enrols_at_first_sign_in(demo_site: DemoSite, new_page):
    county = demo_site.household["detail"]["region_path"][2]["code"]
    with demo_site.api("province_admin") as admin:
        r = admin.post("/users", json={"username": "e2e_new_admin", "password": E2E_PASSWORD,
                                       "role": "county_admin", "region_code": county,
                                       "display_name": "测试·e2e_new_admin"})
    assert r.status_code == 201, r.text
    demo_site.users["e2e_new_admin"] = E2E_PASSWORD
    # through the API: signed in, but limited to enrolment
    with ApiClient(demo_site.url("/api/v1")) as api:
        me = api.post("/auth/login", json={"username": "e2e_new_admin", "password": E2E_PASSWORD}).json()
        assert me["user"]["totp_enrolment_required"] is True
        blocked = api.get("/households")
        assert blocked.status_code == 403 and blocked.json()["code"] == "totp_enrolment_required"
    page = new_page()
    page.goto(demo_site.url("/households"))
    field(page, "username").fill("e2e_new_admin")
    field(page, "password").fill(E2E_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/account/totp\?redirect=(%2F|/)households$"))
    secret_text = page.get_by_test_id("totp-secret")
    expect(secret_text).to_have_text(re.compile(r"^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$"))
    expect(page.get_by_test_id("totp-uri")).to_contain_text("otpauth://totp/")
    expect(page.get_by_test_id("totp-uri")).to_contain_text("e2e_new_admin")
    expect(page.get_by_test_id("user-name")).to_have_count(0)  # nothing of the app before enrolment
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "totp-enrol.png"), full_page=True)
    secret = secret_text.inner_text().replace(" ", "")
    assert secret in page.get_by_test_id("totp-uri").inner_text()
    # another page of the app leads back here
    page.goto(demo_site.url("/dashboard"))
    expect(page).to_have_url(re.compile(r"/account/totp"))
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")  # a new key each visit
    totp = pyotp.TOTP(secret)
    field(page, "totp-code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_test_id("totp-confirm").click()
    expect(page.get_by_test_id("totp-error")).to_contain_text("动态口令不正确")
    demo_site.remember_totp("e2e_new_admin", secret)
    field(page, "totp-code").fill(demo_site.code("e2e_new_admin"))
    page.get_by_test_id("totp-confirm").click()
    expect(page.get_by_test_id("user-name")).to_have_text("测试·e2e_new_admin")
    expect(page).to_have_url(re.compile(r"/dashboard"))
    # the next sign-in asks for a code
    page.get_by_test_id("sign-out").click()
    field(page, "username").fill("e2e_new_admin")
    field(page, "password").fill(E2E_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("动态验证码")
    field(page, "totp").fill(demo_site.code("e2e_new_admin"))
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_have_text("测试·e2e_new_admin")
