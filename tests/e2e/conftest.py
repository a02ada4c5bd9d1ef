"""Browser tests against a live server: `safetynet demo` (README command 1) on a small generated
province in a subprocess, driven by Python Playwright on Debian's chromium.

One server per session: it generates ~2000 persons, imports them, seeds the demo users and
serves the built web UI (web/dist). The fixture then signs in as the province administrator
and, through the public API, picks a household to work on and creates two accounts bound to
it (a township caseworker for its township, a grid worker for its grid): the demo users sit
in the first township of the tree, which a small province may leave without households.

The server's database follows the suite's: the embedded SQLite file by default (as README
command 1 runs it), a fresh PostgreSQL database when SAFETYNET_TEST_DATABASE_URL is set.

Administrators sign in with a second factor: the demo enrols its administrators and prints their
otpauth URIs, which the fixture reads from the demo's output; an administrator created by a test
enrols on the web page it is sent to at first sign-in (`sign_in`) or through the API. Codes are
single-use, so `DemoSite.code` hands out each time step once (waiting for the next step when the
three a clock-skew window accepts are spent) and `DemoSite.api` keeps administrators' sessions.

Nothing is skipped: without chromium or the web build the tests fail saying what to install.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEMO_PERSONS = 2000
DEMO_PASSWORD = "Demo@2026"  # the published demo password (README)
E2E_PASSWORD = "E2e-Passw0rd!"
PG_URL = os.environ.get("SAFETYNET_TEST_DATABASE_URL", "")


@dataclass
class DemoSite:
    """The live server and what the session fixture prepared on it."""

    base_url: str
    data_dir: Path
    persons: int
    household: dict            # a household in `township` (search item + detail)
    other_household: dict      # a household in another township
    township: str
    users: dict[str, str] = field(default_factory=dict)   # username → password
    database: str = "sqlite"   # the server's database dialect
    totp: dict[str, str] = field(default_factory=dict)    # username → TOTP seed (administrators)
    spent: dict[str, int] = field(default_factory=dict)   # username → last time step used
    sessions: dict[str, http.cookiejar.CookieJar] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def remember_totp(self, username: str, secret: str, spent_at: float | None = None) -> None:
        """A seed enrolled by a test, and the time whose code it spent confirming."""
        self.totp[username] = secret
        if spent_at is not None:
            self.spent[username] = int(spent_at // 30)

    def code(self, username: str) -> str:
        """An unspent code of `username`'s second factor, valid for a few seconds more at least:
        the earliest step the server still accepts (one back, now, one ahead) after the last spent."""
        totp = pyotp.TOTP(self.totp[username])
        while True:
            now = time.time()
            step = max(int((now + 5) // 30) - 1, self.spent.get(username, -1) + 1)
            if step <= int(now // 30) + 1:
                self.spent[username] = step
                return totp.at(step * 30)
            time.sleep((int(now // 30) + 1) * 30 - now + 0.2)  # all three spent: the next step

    def api(self, username: str) -> ApiClient:
        """An API client signed in as `username` (an administrator's session is kept and reused:
        each sign-in spends a code)."""
        client = ApiClient(self.base_url + "/api/v1", jar=self.sessions.get(username))
        if username in self.sessions and client.get("/auth/me").status_code == 200:
            return client
        body = {"username": username, "password": self.users[username]}
        r = client.post("/auth/login", json=body)
        if r.status_code == 401 and r.json()["code"] == "totp_required":
            r = client.post("/auth/login", json=body | {"totp_code": self.code(username)})
        assert r.status_code == 200, r.text
        if username in self.totp:
            self.sessions[username] = client.jar
        return client


@dataclass
class Answer:
    status_code: int
    text: str

    def json(self):  # noqa: ANN201
        return json.loads(self.text)


class ApiClient:
    """A minimal JSON client with a cookie jar (the session cookie), on the standard library."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _send(self, method: str, path: str, params: dict | None = None,
              json_body: dict | None = None) -> Answer:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(json_body).encode() if json_body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=30) as r:
                return Answer(r.status, r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.read().decode("utf-8"))

    def get(self, path: str, params: dict | None = None) -> Answer:
        return self._send("GET", path, params=params)

    def post(self, path: str, json: dict | None = None) -> Answer:  # noqa: A002 - mirrors requests
        return self._send("POST", path, json_body=json)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.opener.close()


def _newer_sources(built: float) -> Path | None:
    """A web source file changed after the build, if any (the tests would exercise old code)."""
    web = ROOT / "web"
    files = [web / "index.html", web / "package.json", web / "package-lock.json", web / "vite.config.js",
             *(web / "src").rglob("*")]
    return next((f for f in files if f.is_file() and f.stat().st_mtime > built), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-4000:]
            raise AssertionError(f"`safetynet demo` exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the demo server did not answer within {seconds:.0f}s:\n{log.read_text()[-4000:]}")


def _township(detail: dict) -> str:
    return next(r["code"] for r in detail["region_path"] if r["level"] == "township")


def _demo_totp(log: Path) -> dict[str, str]:
    """The demo administrators' seeds, from the otpauth URIs `safetynet demo` prints."""
    seeds = {}
    for uri in re.findall(r"otpauth://totp/\S+", log.read_text()):
        parsed = pyotp.parse_uri(uri)
        seeds[parsed.name] = parsed.secret
    assert {"province_admin", "city_admin", "county_admin"} <= seeds.keys(), \
        f"`safetynet demo` printed no second factor of its administrators:\n{log.read_text()[-3000:]}"
    return seeds


def _prepare(site: DemoSite) -> tuple[dict, dict, str, dict[str, str]]:
    """Pick two households in different townships and create the test accounts bound to the first."""
    site.users.update({name: DEMO_PASSWORD for name in (
        "province_admin", "city_admin", "county_admin", "caseworker", "reviewer", "grid_worker",
        "liaison_medical", "charity", "auditor", "data_officer")})
    with site.api("province_admin") as admin:
        # a dibao household with more than one member makes the richest detail page
        items = admin.get("/households", params={"tier": "dibao", "page_size": 200}).json()["items"]
        chosen = next((h for h in items if h["members"] > 1), items[0])
        detail = admin.get(f"/households/{chosen['household_no']}").json()
        township = _township(detail)
        household = {**chosen, "detail": detail}
        other = None
        for h in admin.get("/households", params={"page_size": 200}).json()["items"]:
            d = admin.get(f"/households/{h['household_no']}").json()
            if _township(d) != township:
                other = {**h, "detail": d}
                break
        assert other is not None, "the demo province has households in one township only"
        users = dict(site.users)
        for username, role, region in (("e2e_caseworker", "township_caseworker", township),
                                       ("e2e_grid", "grid_worker", detail["grid_code"])):
            r = admin.post("/users", json={"username": username, "password": E2E_PASSWORD, "role": role,
                                           "region_code": region, "display_name": f"测试·{username}"})
            assert r.status_code in (200, 201), r.text
            users[username] = E2E_PASSWORD
    return household, other, township, users


@contextmanager
def _server_database() -> Iterator[str | None]:
    """None for the embedded SQLite default; else the URL of a fresh PostgreSQL database."""
    if not PG_URL:
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"safetynet_e2e_{uuid.uuid4().hex[:8]}"
    server = PG_URL.rsplit("/", 1)[0]
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Iterator[DemoSite]:  # noqa: ANN001
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the web UI is not built ({DIST} missing): run `bash scripts/bootstrap.sh` "
                    "or `cd web && npm ci && npm run build` (Node 20+)", pytrace=False)
    if stale := _newer_sources((DIST / "index.html").stat().st_mtime):
        pytest.fail(f"the web UI build is older than {stale}: rebuild with `bash scripts/bootstrap.sh` "
                    "or `cd web && npm run build`", pytrace=False)
    data = tmp_path_factory.mktemp("e2e") / "data"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _server_database() as database_url:
        env = {**os.environ, "SAFETYNET_DATA_DIR": str(data),
               # every browser and API client of the suite signs in from 127.0.0.1, and several tests
               # fail sign-ins on purpose (wrong passwords, lockouts): over the session they would add
               # up to the per-address limit meant for one client
               "SAFETYNET_LOGIN_RATE_LIMIT_ATTEMPTS": "500"}
        env.pop("SAFETYNET_DATABASE_URL", None)
        env.pop("SAFETYNET_SESSION_COOKIE_SECURE", None)  # as README command 1: the demo decides
        if database_url:
            env["SAFETYNET_DATABASE_URL"] = database_url
        log = data.parent / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "safetynet.cli.main", "demo", "--persons", str(DEMO_PERSONS),
                 "--months", "2", "--port", str(port)],
                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            )
        try:
            _wait_healthy(base, proc, log)
            site = DemoSite(base_url=base, data_dir=data, persons=DEMO_PERSONS, household={},
                            other_household={}, township="", totp=_demo_totp(log),
                            database="postgresql" if database_url else "sqlite")
            site.household, site.other_household, site.township, site.users = _prepare(site)
            yield site
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def browser():  # noqa: ANN201
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: the browser tests need Debian's chromium and CJK fonts — "
                    "`apt-get install -y chromium fonts-noto-cjk` (.ci/run installs them in CI)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    pw.selectors.set_test_id_attribute("data-test")  # the web UI's test hooks
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def _screenshot_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:120] + ".png"


@pytest.fixture
def new_page(browser, request):  # noqa: ANN001, ANN201
    """Factory: a fresh browser context (own cookies and storage) per call; every page is
    screenshotted to test-artifacts/screenshots/ at the end of the test, pass or fail."""
    contexts = []

    def make(viewport: dict | None = None, locale: str = "zh-CN"):  # noqa: ANN202
        ctx = browser.new_context(viewport=viewport or {"width": 1366, "height": 860}, locale=locale)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = _screenshot_name(request.node.nodeid)
    for i, ctx in enumerate(contexts):
        for page in ctx.pages:
            name = base if i == 0 else base.replace(".png", f"-{i + 1}.png")
            try:
                page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
            except Exception as e:  # noqa: BLE001 - a failed screenshot must not hide the test's result
                print(f"screenshot {name} failed: {e}")  # noqa: T201
        ctx.close()


def sign_in(page, site: DemoSite, username: str, password: str | None = None) -> None:  # noqa: ANN001
    """Sign in through the form and wait for the admin layout. An administrator enters a code
    when asked, or — at first sign-in — sets up the second factor on the page it is sent to."""
    page.goto(site.url("/login"))
    field(page, "username").fill(username)
    field(page, "password").fill(password or site.users[username])
    page.get_by_test_id("login-submit").click()
    signed_in, asked, enrol = (page.get_by_test_id(t) for t in ("user-name", "totp", "totp-secret"))
    signed_in.or_(asked).or_(enrol).first.wait_for()
    if enrol.is_visible():
        enrol_second_factor(page, site, username)
    elif asked.is_visible():
        field(page, "totp").fill(site.code(username))
        page.get_by_test_id("login-submit").click()
    signed_in.wait_for()


def enrol_second_factor(page, site: DemoSite, username: str) -> None:  # noqa: ANN001
    """On the enrolment page: read the key shown (groups of four), confirm a code of it."""
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    site.remember_totp(username, secret)
    field(page, "totp-code").fill(site.code(username))
    page.get_by_test_id("totp-confirm").click()


def field(page, test_id: str):  # noqa: ANN001, ANN201
    """The <input>/<textarea> of an Element Plus field marked data-test=test_id."""
    own_or_inner = "xpath=descendant-or-self::*[self::input or self::textarea]"
    return page.locator(f"[data-test={test_id}]").locator(own_or_inner)
