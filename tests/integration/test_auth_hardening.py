"""Account security of issue 15: lockout that holds under concurrency (checked by counting the
password checks), the per-address rate limit, one answer for locked / unknown / wrong, a stranger
cannot lock the owner out, administrators must enrol a second factor, single-use codes, password
strength, the Secure cookie, and the demo's second factor. Runs on SQLite and PostgreSQL alike
(the `engine` fixture follows SAFETYNET_TEST_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.api.app import create_app
from safetynet.audit.store import audit_log
from safetynet.auth import service
from safetynet.auth.errors import ApiError
from safetynet.config import get_settings
from tests.conftest import TEST_PASSWORD

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WRONG = "Wrong@2026pw"
LOGIN = "/api/v1/auth/login"


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **kw) -> None:  # noqa: ANN003
        self.t += dt.timedelta(**kw)


@pytest.fixture
def clock(client_as) -> Clock:  # noqa: ANN001
    c = Clock(T0)
    client_as.app.state.clock = c
    return c


@pytest.fixture
def settings(monkeypatch):  # noqa: ANN001, ANN201
    """Change sign-in settings for one test: settings(login_rate_limit_attempts=3, ...)."""
    def change(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"SAFETYNET_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield change
    get_settings.cache_clear()


def _from(client_as, address: str) -> TestClient:  # noqa: ANN001
    """A client of the test app connecting from `address`."""
    return TestClient(client_as.app, client=(address, 40000))


def _login(client, username: str, password: str = TEST_PASSWORD, **extra):  # noqa: ANN001, ANN003, ANN202
    return client.post(LOGIN, json={"username": username, "password": password, **extra})


def _enrolled_admin(client_as, role: str = "county_admin", region: str = "370102") -> tuple[str, pyotp.TOTP]:  # noqa: ANN001
    """A fresh administrator who set up and confirmed a second factor at the app clock's time."""
    name = client_as.user(role, region)
    client = client_as.anonymous()
    assert _login(client, name).status_code == 200
    totp = pyotp.TOTP(client.post("/api/v1/auth/totp/setup").json()["secret"])
    assert client.post("/api/v1/auth/totp/confirm", json={"code": totp.at(client_as.app.state.clock())}
                       ).status_code == 200
    return name, totp


def _details(engine, username: str) -> list[str]:  # noqa: ANN001
    with engine.connect() as c:
        return list(c.execute(select(audit_log.c.detail).where(audit_log.c.object_id == username,
                                                               audit_log.c.action == "login")
                              .order_by(audit_log.c.id)).scalars())


class CountingVerify:
    """Stands in for `service._verify` (the one place an account's password is checked) and
    counts its calls. Each check is held open until more checks than `limit` have started (then
    the lockout failed) or two seconds have passed, so parallel sign-ins genuinely overlap the
    check — as they do with production's Argon2 cost — whatever the scheduling."""

    def __init__(self, real, limit: int) -> None:  # noqa: ANN001
        self.real, self.limit, self.calls = real, limit, 0
        self._lock, self.crowd = threading.Lock(), threading.Event()

    def __call__(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.calls += 1
            if self.calls > self.limit:
                self.crowd.set()
        self.crowd.wait(timeout=2)
        return self.real(password_hash, password)


def _in_parallel(n: int, attempt) -> list:  # noqa: ANN001
    start = threading.Barrier(n)

    def run(i: int):  # noqa: ANN202
        start.wait()
        return attempt(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


# --- 1. the lockout holds under concurrency ------------------------------------------------

def test_forty_parallel_wrong_sign_ins_check_at_most_the_limit_of_passwords(client_as, monkeypatch, settings):
    settings(login_rate_limit_attempts=1000)  # the lockout alone is under test here
    limit = get_settings().login_lockout_attempts
    name = client_as.user("grid_worker", "370102001000")
    verify = CountingVerify(service._verify, limit)
    monkeypatch.setattr(service, "_verify", verify)
    answers = _in_parallel(40, lambda i: _login(_from(client_as, "203.0.113.9"), name, f"{WRONG}{i}"))
    assert verify.calls <= limit, f"{verify.calls} passwords checked"
    assert {(a.status_code, a.json()["code"]) for a in answers} == {(401, "invalid_credentials")}
    # locked for this address: the right password is not even checked now
    calls = verify.calls
    assert _login(_from(client_as, "203.0.113.9"), name).status_code == 401
    assert verify.calls == calls
    details = _details(client_as.engine, name)
    assert len(details) == 41 and details.count("locked") >= 41 - limit


def test_parallel_wrong_current_passwords_check_at_most_the_limit(client_as, monkeypatch):
    limit = get_settings().login_lockout_attempts
    client = client_as("grid_worker", "370102001000")
    verify = CountingVerify(service._verify, limit)
    monkeypatch.setattr(service, "_verify", verify)

    def change(i: int):  # noqa: ANN202
        c = _from(client_as, "testclient")
        c.cookies.set("safetynet_session", client.cookies.get("safetynet_session"))
        return c.post("/api/v1/auth/password", json={"current_password": f"{WRONG}{i}",
                                                     "new_password": "Another-2026-horse"})

    answers = _in_parallel(40, change)
    assert verify.calls <= limit, f"{verify.calls} current passwords checked"
    assert {a.status_code for a in answers} <= {400, 401, 423}
    assert client.get("/api/v1/auth/me").status_code == 401  # the lock ended the session


def test_wrong_codes_count_towards_the_lockout(client_as, clock):
    name, totp = _enrolled_admin(client_as)
    clock.advance(seconds=60)
    right = totp.at(clock.t)
    near = {totp.at(clock.t + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in near)
    for _ in range(get_settings().login_lockout_attempts):
        assert _login(client_as.anonymous(), name, totp_code=wrong).json()["code"] == "invalid_credentials"
    assert _login(client_as.anonymous(), name, totp_code=right).status_code == 401
    assert _details(client_as.engine, name)[-2:] == ["bad_totp,locked_out", "locked"]


# --- 2. per-address rate limit -------------------------------------------------------------

def test_an_address_that_keeps_failing_gets_429_with_retry_after(client_as, clock, settings):
    settings(login_rate_limit_attempts=3, login_rate_limit_window_seconds=600)
    name = client_as.user("grid_worker", "370102001000")
    prober = _from(client_as, "203.0.113.50")
    # a success does not use up the allowance (an office behind one address signs in freely)
    for _ in range(5):
        assert _login(prober, name).status_code == 200
    # the allowance is across accounts, known or not, and shared by every server process (a
    # second app on the same database stands for another worker)
    second = create_app(client_as.engine)
    second.state.clock = clock
    second_worker = TestClient(second, client=("203.0.113.50", 1))
    assert _login(prober, "nobody1", WRONG).status_code == 401
    assert _login(second_worker, name, WRONG).status_code == 401
    assert _login(prober, "nobody2", WRONG).status_code == 401
    refused = _login(second_worker, name)  # even the right password now
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "too_many_requests" and "秒后再试" in body["message_zh"]
    seconds = int(refused.headers["retry-after"])
    assert 0 < seconds <= 600
    assert _login(_from(client_as, "198.51.100.1"), name).status_code == 200  # another address: fine
    assert _details(client_as.engine, name)[-2:] == ["rate_limited", "ok"]


def test_the_rate_limit_window_passes(client_as, clock, settings):
    settings(login_rate_limit_attempts=2, login_rate_limit_window_seconds=60)
    prober = _from(client_as, "203.0.113.51")
    assert [_login(prober, f"ghost{i}", WRONG).status_code for i in range(3)] == [401, 401, 429]
    clock.advance(minutes=1)  # the next window (T0 starts one)
    assert _login(prober, "ghost9", WRONG).status_code == 401


def test_settings_are_validated():
    from pydantic import ValidationError

    from safetynet.config import Settings

    for bad in ({"login_rate_limit_attempts": 0}, {"login_lockout_attempts": 0},
                {"login_rate_limit_window_seconds": -5}, {"login_account_failure_ceiling": 1}):
        with pytest.raises(ValidationError):
            Settings(**bad)
    s = Settings()
    assert (s.login_lockout_attempts, s.login_rate_limit_attempts, s.trust_forwarded_for) == (5, 20, False)


def test_forwarded_for_counts_only_when_trusted(client_as, clock, settings):
    settings(login_rate_limit_attempts=1)
    proxy = _from(client_as, "10.0.0.1")  # every request arrives from the proxy
    spoof = {"X-Forwarded-For": "192.0.2.1"}
    assert proxy.post(LOGIN, json={"username": "ghost", "password": WRONG}, headers=spoof).status_code == 401
    # not trusted: the header is ignored, the proxy's address is the client (and is used up)
    assert proxy.post(LOGIN, json={"username": "ghost", "password": WRONG},
                      headers={"X-Forwarded-For": "192.0.2.2"}).status_code == 429
    settings(login_rate_limit_attempts=1, trust_forwarded_for="true")
    # trusted: the proxy's own entry (the last) is the client; earlier entries are the client's to invent
    assert proxy.post(LOGIN, json={"username": "ghost", "password": WRONG},
                      headers={"X-Forwarded-For": "6.6.6.6, 192.0.2.3"}).status_code == 401
    assert proxy.post(LOGIN, json={"username": "ghost", "password": WRONG},
                      headers={"X-Forwarded-For": "7.7.7.7, 192.0.2.3"}).status_code == 429
    assert proxy.post(LOGIN, json={"username": "ghost", "password": WRONG},
                      headers={"X-Forwarded-For": "192.0.2.4"}).status_code == 401


def test_ipv6_clients_are_counted_per_64():
    from safetynet.auth.throttle import client_key

    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" and client_key("192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "unknown"


# --- 3. no enumeration, no locking the owner out ---------------------------------------------

def test_locked_unknown_and_wrong_answer_identically(client_as, clock, monkeypatch):
    locked = client_as.user("grid_worker", "370102001000")
    other = client_as.user("grid_worker", "370102001000")
    prober = _from(client_as, "203.0.113.7")
    for _ in range(get_settings().login_lockout_attempts):
        _login(prober, locked, WRONG)
    answers = {
        "locked, right password": _login(prober, locked),
        "locked, wrong password": _login(prober, locked, WRONG),
        "unknown user": _login(prober, "nobody", WRONG),
        "wrong password": _login(prober, other, WRONG),
    }
    first = answers["wrong password"]
    for what, r in answers.items():
        assert (r.status_code, r.json()) == (first.status_code, first.json()), what
        assert "set-cookie" not in r.headers, what
    assert first.status_code == 401 and first.json()["code"] == "invalid_credentials"
    assert first.json()["message_zh"].startswith("用户名或密码错误")
    # a locked account's attempt costs a hash like the others (no timing tell) without checking its password
    verify = CountingVerify(service._verify, 0)
    verify.crowd.set()
    monkeypatch.setattr(service, "_verify", verify)
    spent = []
    monkeypatch.setattr(service, "_spend_like_verify", lambda p: spent.append(1))
    _login(prober, locked)
    assert verify.calls == 0 and spent == [1]


def test_a_stranger_cannot_lock_the_owner_out(client_as, clock):
    owner_name = client_as.user("township_caseworker", "370102001000")
    stranger = _from(client_as, "203.0.113.66")
    for _ in range(get_settings().login_lockout_attempts * 2):
        assert _login(stranger, owner_name, WRONG).status_code == 401
    owner = _from(client_as, "198.51.100.23")
    assert _login(owner, owner_name).status_code == 200
    assert owner.get("/api/v1/auth/me").json()["username"] == owner_name
    # the stranger's address stays locked out, even with the right password, until the lock ends
    assert _login(stranger, owner_name).status_code == 401
    clock.advance(minutes=get_settings().login_lockout_minutes, seconds=1)
    assert _login(stranger, owner_name).status_code == 200


def test_an_administrator_sees_an_address_lock_and_unlock_clears_it(client_as, clock):
    name = client_as.user("grid_worker", "370102001000")
    admin = client_as("county_admin", "370102")
    stranger = _from(client_as, "203.0.113.66")
    for _ in range(get_settings().login_lockout_attempts):
        _login(stranger, name, WRONG)
    # the lock is of the stranger's address only: the owner signs in, the administrator sees it
    assert _login(_from(client_as, "198.51.100.23"), name).status_code == 200
    assert admin.get(f"/api/v1/users/{name}").json()["locked_until"] is not None
    assert admin.patch(f"/api/v1/users/{name}", json={"unlock": True}).status_code == 200
    assert admin.get(f"/api/v1/users/{name}").json()["locked_until"] is None
    assert _login(stranger, name).status_code == 200


def test_failures_left_alone_for_a_month_are_forgotten(client_as, clock):
    name = client_as.user("grid_worker", "370102001000")
    here = _from(client_as, "203.0.113.70")
    for _ in range(get_settings().login_lockout_attempts - 1):
        _login(here, name, WRONG)
    clock.advance(days=31)
    _login(_from(client_as, "203.0.113.71"), "ghost", WRONG)  # any attempt opening a window tidies up
    _login(here, name, WRONG)  # would be the last one allowed, had the old ones stayed
    assert _login(here, name).status_code == 200


def test_a_guess_spread_over_many_addresses_locks_the_account_and_is_audited(client_as, clock, settings):
    settings(login_account_failure_ceiling=8)
    name = client_as.user("grid_worker", "370102001000")
    admin = client_as("county_admin", "370102")
    for i in range(8):  # two wrong from each of four addresses
        assert _login(_from(client_as, f"203.0.113.{100 + i // 2}"), name, WRONG).status_code == 401
    assert _details(client_as.engine, name)[-1] == "bad_password,account_locked_out"
    owner = _from(client_as, "198.51.100.23")
    assert _login(owner, name).status_code == 401  # now locked for everyone
    assert _details(client_as.engine, name)[-1] == "account_locked"
    listed = admin.get(f"/api/v1/users/{name}").json()
    lock = dt.timedelta(minutes=get_settings().login_lockout_minutes)
    assert dt.datetime.fromisoformat(listed["locked_until"]) == clock.t + lock
    assert admin.patch(f"/api/v1/users/{name}", json={"unlock": True}).status_code == 200
    assert admin.get(f"/api/v1/users/{name}").json()["locked_until"] is None
    assert _login(owner, name).status_code == 200


# --- 4. administrators must enrol a second factor ------------------------------------------

def test_an_administrator_without_a_second_factor_can_only_enrol(client_as, clock):
    name = client_as.user("county_admin", "370102")
    client = client_as.anonymous()
    r = _login(client, name)
    assert r.status_code == 200 and r.json()["user"]["totp_enrolment_required"] is True
    for path in ("/api/v1/households", "/api/v1/users", "/api/v1/audit"):
        blocked = client.get(path)
        assert blocked.status_code == 403, path
        assert blocked.json()["code"] == "totp_enrolment_required" and blocked.json()["message_zh"]
    assert client.post("/api/v1/users", json={}).json()["code"] == "totp_enrolment_required"
    assert client.get("/api/v1/auth/me").json()["totp_enrolment_required"] is True
    setup = client.post("/api/v1/auth/totp/setup").json()
    assert client.post("/api/v1/auth/totp/confirm",
                       json={"code": pyotp.TOTP(setup["secret"]).at(clock.t)}).status_code == 200
    # the same session now reaches everything the role may
    assert client.get("/api/v1/households").status_code == 200
    assert client.get("/api/v1/auth/me").json()["totp_enrolment_required"] is False
    # non-administrators are not asked to enrol
    worker = client_as("grid_worker", "370102001000")
    assert worker.get("/api/v1/auth/me").json()["totp_enrolment_required"] is False
    # before enrolling, the password may still be changed and the session ended
    other = client_as.anonymous()
    assert _login(other, client_as.user("city_admin", "3701")).status_code == 200
    assert other.get("/api/v1/regions/37").json()["code"] == "totp_enrolment_required"
    r = other.post("/api/v1/auth/password", json={"current_password": TEST_PASSWORD,
                                                  "new_password": "Quiet-river-2026"})
    assert r.status_code == 200, r.text
    assert other.post("/api/v1/auth/logout").status_code == 204


# --- 5. single-use codes --------------------------------------------------------------------

def test_a_code_signs_in_only_once(client_as, clock):
    name, totp = _enrolled_admin(client_as, "city_admin", "3701")
    # the code that confirmed enrolment is spent already
    assert _login(client_as.anonymous(), name, totp_code=totp.at(clock.t)).status_code == 401
    clock.advance(seconds=30)
    code = totp.at(clock.t)
    assert _login(client_as.anonymous(), name, totp_code=code).status_code == 200
    again = _login(client_as.anonymous(), name, totp_code=code)
    assert again.status_code == 401 and again.json()["code"] == "invalid_credentials"
    # nor the code of an earlier step, though still inside the clock-skew window
    assert _login(client_as.anonymous(), name,
                  totp_code=totp.at(clock.t - dt.timedelta(seconds=30))).status_code == 401
    assert _details(client_as.engine, name)[-3:] == ["ok", "bad_totp,reused", "bad_totp,reused"]
    clock.advance(seconds=30)
    assert _login(client_as.anonymous(), name, totp_code=totp.at(clock.t)).status_code == 200


def test_the_same_code_twice_at_once_signs_in_once(client_as, clock):
    name, totp = _enrolled_admin(client_as)
    clock.advance(seconds=30)
    code = totp.at(clock.t)
    answers = _in_parallel(8, lambda i: _login(_from(client_as, f"198.51.100.{i}"), name, totp_code=code))
    assert sorted(a.status_code for a in answers) == [200] + [401] * 7


def test_confirming_spends_the_code_and_refuses_an_earlier_one(client_as, clock):
    name = client_as.user("county_admin", "370102")
    client = client_as.anonymous()
    assert _login(client, name).status_code == 200
    totp = pyotp.TOTP(client.post("/api/v1/auth/totp/setup").json()["secret"])
    assert client.post("/api/v1/auth/totp/confirm", json={"code": totp.at(clock.t)}).status_code == 200
    # set up again after an operator's reset: a code of a step already spent does not confirm
    service.totp_reset(client_as.engine, username=name)
    totp = pyotp.TOTP(client.post("/api/v1/auth/totp/setup").json()["secret"])
    earlier = client.post("/api/v1/auth/totp/confirm",
                          json={"code": totp.at(clock.t - dt.timedelta(seconds=30))})
    assert earlier.status_code == 400 and earlier.json()["field"] == "code"
    assert "已使用" in earlier.json()["message_zh"]
    with client_as.engine.connect() as c:
        row = c.execute(select(audit_log.c.detail, audit_log.c.result).where(audit_log.c.object_id == name)
                        .order_by(audit_log.c.id.desc())).first()
    assert tuple(row) == ("totp_confirm:bad_totp,reused", "denied")


# --- 6. password strength -------------------------------------------------------------------

@pytest.mark.parametrize(("password", "english", "chinese"), [
    ("password12", "very common password", "很常见的密码"),
    ("aaaaaaaaa1", 'Repeats like "aaa"', "重复的字符"),
    ("qwertyuiop1", "too easy to guess", "太容易被猜中"),
])
def test_common_and_repetitive_passwords_are_refused(engine, password, english, chinese):
    with pytest.raises(ApiError) as e:
        service.create_user(engine, username="newuser", password=password, role="grid_worker",
                            region_code="370102001000")
    assert e.value.status == 400 and e.value.field == "password"
    assert "too easy to guess" in e.value.message and english in e.value.message
    assert chinese in e.value.message_zh and "太容易被猜中" in e.value.message_zh


def test_a_password_made_of_the_account_names_is_refused(engine, client_as):
    with pytest.raises(ApiError) as e:
        service.create_user(engine, username="liuyang", password="liuyang2026x", role="grid_worker",
                            region_code="370102001000", display_name="Liu Yang")
    assert e.value.field == "password"
    client = client_as("grid_worker", "370102001000")
    for weak in ("password12", "aaaaaaaaa1"):
        r = client.post("/api/v1/auth/password", json={"current_password": TEST_PASSWORD,
                                                       "new_password": weak})
        assert r.status_code == 400 and r.json()["field"] == "new_password"
        assert "太容易" in r.json()["message_zh"]
    admin = client_as("county_admin", "370102")
    r = admin.patch(f"/api/v1/users/{client.username}", json={"password": "password12"})
    assert r.status_code == 400 and r.json()["field"] == "password"


def test_strong_passwords_pass_and_the_demo_password_only_for_demo_accounts(engine):
    with pytest.raises(ApiError) as e:
        service.create_user(engine, username="strong.two", password="password1234", role="grid_worker",
                            region_code="370102001000")
    assert "too easy to guess" in e.value.message
    service.create_user(engine, username="strong.one", password="Quiet-river-2026", role="grid_worker",
                        region_code="370102001000")
    service.seed_demo_users(engine)  # Demo@2026 stays allowed for the demo accounts
    with pytest.raises(ApiError):
        service.create_user(engine, username="notdemo", password=service.DEMO_PASSWORD, role="grid_worker",
                            region_code="370102001000")


# --- 7. the Secure cookie --------------------------------------------------------------------

def test_the_session_cookie_is_secure_by_default(client_as, monkeypatch):
    monkeypatch.delenv("SAFETYNET_SESSION_COOKIE_SECURE", raising=False)
    get_settings.cache_clear()
    try:
        name = client_as.user("grid_worker", "370102001000")
        r = _login(client_as.anonymous(), name)
    finally:
        get_settings.cache_clear()
    cookie = r.headers["set-cookie"]
    assert r.status_code == 200 and "; Secure" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()


# --- the command line and the demo ----------------------------------------------------------

def test_users_create_of_an_administrator_says_to_enrol(settings_env):
    from typer.testing import CliRunner

    from safetynet.cli.main import app

    r = CliRunner().invoke(app, ["users", "create", "boss.one", "--role", "county_admin", "--region",
                                 "370102", "--password", "Quiet-river-2026"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "second factor" in r.output and "动态口令" in r.output
    r = CliRunner().invoke(app, ["users", "create", "worker.one", "--role", "grid_worker", "--region",
                                 "370102001000", "--password", "Quiet-river-2026"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "second factor" not in r.output


def test_demo_administrators_have_a_second_factor_and_the_demo_prints_how(settings_env, engine):
    from typer.testing import CliRunner

    from safetynet.cli.main import app

    r = CliRunner().invoke(app, ["users", "seed-demo"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    uris = {line.split()[0]: line.split()[1] for line in r.output.splitlines()
            if "otpauth://" in line}
    assert set(uris) == {"province_admin", "city_admin", "county_admin"}
    assert "safetynet users totp-code" in r.output
    secret = pyotp.parse_uri(uris["county_admin"]).secret
    # the demo administrator signs in with the code from the printed seed ...
    assert service.login(engine, username="county_admin", password=service.DEMO_PASSWORD,
                         totp_code=pyotp.TOTP(secret).now())[1].totp_enabled
    # ... or from `safetynet users totp-code`
    code = CliRunner().invoke(app, ["users", "totp-code", "city_admin"])
    assert code.exit_code == 0 and code.output.strip().isdigit()
    assert service.login(engine, username="city_admin", password=service.DEMO_PASSWORD,
                         totp_code=code.output.strip())[1].role == "city_admin"
    # seeding again keeps the seeds (idempotent)
    again = CliRunner().invoke(app, ["users", "seed-demo"], env={"COLUMNS": "80"})
    assert uris["county_admin"] in again.output


def test_totp_code_is_refused_for_accounts_that_are_not_demo_ones(settings_env, engine):
    from typer.testing import CliRunner

    from safetynet.cli.main import app

    service.seed_demo_users(engine)
    service.update_user(engine, username="province_admin", by=None, password="Quiet-river-2026")
    service.create_user(engine, username="real.admin", password="Quiet-river-2026", role="county_admin",
                        region_code="370102")
    for username in ("province_admin", "real.admin", "nobody"):
        r = CliRunner().invoke(app, ["users", "totp-code", username])
        assert r.exit_code == 1 and "not a demo account" in r.output, username
    assert CliRunner().invoke(app, ["users", "totp-code", "caseworker"]).exit_code == 1  # no second factor


def test_the_plain_http_demo_turns_secure_off_unless_the_operator_chose(monkeypatch):
    from safetynet.cli import demo

    monkeypatch.delenv("SAFETYNET_SESSION_COOKIE_SECURE", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().session_cookie_secure is True
        demo._plain_http_cookie()
        assert get_settings().session_cookie_secure is False
        monkeypatch.setenv("SAFETYNET_SESSION_COOKIE_SECURE", "true")  # the operator's choice stands
        get_settings.cache_clear()
        demo._plain_http_cookie()
        assert get_settings().session_cookie_secure is True
    finally:
        get_settings.cache_clear()
