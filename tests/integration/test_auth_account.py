"""One's own account (issue 6): TOTP seeds encrypted at rest (with the key from the settings or
a generated key file), the migration that encrypts seeds stored before, and the self-service
password change (policy, other sessions ended, lockout, audit)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import stat

import pyotp
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from safetynet.audit.store import audit_log
from safetynet.auth import encryption, service
from safetynet.auth.store import users
from safetynet.bootstrap import alembic_config
from safetynet.config import get_settings
from tests.conftest import TEST_PASSWORD

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
OTHER_KEY = encryption.generate_key_text()
NEW_PASSWORD = "Fresh2026pass"


@pytest.fixture
def fixed_clock(client_as):  # noqa: ANN001, ANN201
    client_as.app.state.clock = lambda: T0


@pytest.fixture
def use_key(monkeypatch):  # noqa: ANN001, ANN201
    """Switch the server's secret key (or, with None, fall back to the key file)."""
    def use(key: str | None) -> None:
        if key is None:
            monkeypatch.delenv("SAFETYNET_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("SAFETYNET_SECRET_KEY", key)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def _login(client, username: str, password: str = TEST_PASSWORD, **extra):  # noqa: ANN001, ANN003, ANN202
    return client.post("/api/v1/auth/login", json={"username": username, "password": password, **extra})


def _stored_secret(engine: Engine, username: str) -> str | None:
    with engine.connect() as c:
        return c.execute(select(users.c.totp_secret).where(users.c.username == username)).scalar()


def _admin_with_totp(client_as) -> tuple[str, str]:  # noqa: ANN001
    """A county administrator who has set up and confirmed TOTP: (username, plain secret). The
    confirming code is the previous step's (accepted for a clock a little behind), so the code
    of T0 is still unspent."""
    name = client_as.user("county_admin", "370102")
    client = client_as.anonymous()
    assert _login(client, name).status_code == 200
    secret = client.post("/api/v1/auth/totp/setup").json()["secret"]
    r = client.post("/api/v1/auth/totp/confirm",
                    json={"code": pyotp.TOTP(secret).at(T0 - dt.timedelta(seconds=30))})
    assert r.status_code == 200, r.text
    return name, secret


def _audit_rows(engine: Engine, object_id: str) -> list:
    with engine.connect() as c:
        return c.execute(select(audit_log).where(audit_log.c.object_id == object_id)
                         .order_by(audit_log.c.id)).all()


# --- TOTP seeds at rest ---------------------------------------------------------------------

def test_totp_secret_is_stored_encrypted_and_sign_in_with_the_code_still_works(client_as, fixed_clock):
    name, secret = _admin_with_totp(client_as)
    stored = _stored_secret(client_as.engine, name)
    assert stored.startswith(encryption.PREFIX) and secret not in stored and stored != secret
    fresh = client_as.anonymous()
    assert _login(fresh, name).json()["code"] == "totp_required"
    ok = _login(fresh, name, totp_code=pyotp.TOTP(secret).at(T0))
    assert ok.status_code == 200 and ok.json()["user"]["totp_enabled"] is True


def test_a_sealed_secret_copied_to_another_user_does_not_decrypt():
    sealed = encryption.encrypt("JBSWY3DPEHPK3PXP", context=encryption.totp_context("alice"))
    assert encryption.decrypt(sealed, context=encryption.totp_context("alice")) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(encryption.SecretKeyError, match="users.totp_secret:mallory cannot be decrypted"):
        encryption.decrypt(sealed, context=encryption.totp_context("mallory"))


def test_a_wrong_key_is_a_clear_server_error_not_a_failed_attempt(client_as, fixed_clock, use_key, caplog):
    name, secret = _admin_with_totp(client_as)
    use_key(OTHER_KEY)  # e.g. the operator replaced SAFETYNET_SECRET_KEY
    with caplog.at_level(logging.ERROR, logger="safetynet.auth.service"):
        r = _login(client_as.anonymous(), name, totp_code=pyotp.TOTP(secret).at(T0))
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "secret_key_unusable" and "secret key" in body["message"]
    assert "密钥" in body["message_zh"]
    # the operator's log says which key and what to do; the browser does not get those details
    assert "cannot be decrypted with the secret key from SAFETYNET_SECRET_KEY" in caplog.text
    assert "restore the previous key" in caplog.text
    with client_as.engine.connect() as c:
        assert c.execute(select(users.c.failed_attempts).where(users.c.username == name)).scalar() == 0
    last = _audit_rows(client_as.engine, name)[-1]
    assert (last.action, last.result, last.detail) == ("login", "error", "secret_key_unusable")


def test_after_a_lost_key_the_operator_turns_two_factor_off_from_the_command_line(
        client_as, fixed_clock, use_key, settings_env):  # noqa: ANN001
    from typer.testing import CliRunner

    from safetynet.cli.main import app

    name, secret = _admin_with_totp(client_as)
    use_key(OTHER_KEY)
    assert _login(client_as.anonymous(), name, totp_code=pyotp.TOTP(secret).at(T0)).status_code == 500
    r = CliRunner().invoke(app, ["users", "reset-totp", name])
    assert r.exit_code == 0, r.output
    assert _stored_secret(client_as.engine, name) is None
    ok = _login(client_as.anonymous(), name)  # no code asked any more; TOTP can be set up again
    assert ok.status_code == 200 and ok.json()["user"]["totp_enabled"] is False
    assert _audit_rows(client_as.engine, name)[-2].detail == "totp_reset"
    assert CliRunner().invoke(app, ["users", "reset-totp", "nobody"]).exit_code == 1


def test_without_a_configured_key_a_0600_key_file_is_generated(tmp_path, monkeypatch, use_key):
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(tmp_path / "data"))
    use_key(None)
    path = tmp_path / "data" / encryption.KEY_FILE_NAME
    with pytest.raises(encryption.SecretKeyError, match="no secret key"):  # reading never creates one
        encryption.load_key()
    sealed = encryption.encrypt("JBSWY3DPEHPK3PXP", context="t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert encryption.decrypt(sealed, context="t") == "JBSWY3DPEHPK3PXP"
    first = path.read_text()
    encryption.encrypt("again", context="t")
    assert path.read_text() == first  # generated once, then kept
    path.chmod(0o644)
    with pytest.raises(encryption.SecretKeyError, match=r"can be read by other users .*chmod 600"):
        encryption.decrypt(sealed, context="t")


@pytest.mark.parametrize("bad", ["too-short", "x" * 44, "dGVzdA=="])
def test_a_malformed_key_names_the_setting_and_how_to_make_one(use_key, bad):
    use_key(bad)
    with pytest.raises(encryption.SecretKeyError,
                       match=r"SAFETYNET_SECRET_KEY is not 32 bytes .*token_bytes"):
        encryption.encrypt("JBSWY3DPEHPK3PXP", context="t")


def _migrate(engine: Engine, fn, revision: str) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_migration_0010_encrypts_plain_text_secrets_stored_before(client_as, fixed_clock):
    engine = client_as.engine
    name, secret = _admin_with_totp(client_as)
    _migrate(engine, command.downgrade, "0009")  # back to plain text, as stored before 0010
    assert _stored_secret(engine, name) == secret
    _migrate(engine, command.upgrade, "head")
    stored = _stored_secret(engine, name)
    assert encryption.is_encrypted(stored) and secret not in stored
    r = _login(client_as.anonymous(), name, totp_code=pyotp.TOTP(secret).at(T0))
    assert r.status_code == 200, r.text
    # a second run leaves encrypted values alone
    _migrate(engine, command.upgrade, "head")
    assert _stored_secret(engine, name) == stored


def test_a_plain_text_secret_left_in_the_database_says_to_migrate(client_as, fixed_clock, caplog):
    name, secret = _admin_with_totp(client_as)
    with client_as.engine.begin() as c:
        c.execute(update(users).where(users.c.username == name).values(totp_secret=secret))
    with caplog.at_level(logging.ERROR, logger="safetynet.auth.service"):
        r = _login(client_as.anonymous(), name, totp_code=pyotp.TOTP(secret).at(T0))
    assert r.json()["code"] == "secret_key_unusable"
    assert "safetynet db-upgrade" in caplog.text


# --- changing one's own password ------------------------------------------------------------

def _change(client, current: str, new: str):  # noqa: ANN001, ANN202
    return client.post("/api/v1/auth/password", json={"current_password": current, "new_password": new})


def test_password_change_round_trip_ends_the_other_sessions_and_is_audited(client_as, fixed_clock):
    name = client_as.user("township_caseworker", "370102001000")
    here, elsewhere = client_as.anonymous(), client_as.anonymous()
    assert _login(here, name).status_code == 200 and _login(elsewhere, name).status_code == 200
    r = _change(here, TEST_PASSWORD, NEW_PASSWORD)
    assert r.status_code == 200, r.text
    assert r.json() == {"password_changed_at": T0.isoformat(), "other_sessions_ended": 1}
    assert here.get("/api/v1/auth/me").status_code == 200       # the session in use stays
    assert elsewhere.get("/api/v1/auth/me").status_code == 401  # the others end
    assert _login(client_as.anonymous(), name).json()["code"] == "invalid_credentials"
    assert _login(client_as.anonymous(), name, NEW_PASSWORD).status_code == 200
    change = [a for a in _audit_rows(client_as.engine, name) if a.action == "write"][-1]
    assert change.result == "ok" and json.loads(change.fields) == ["password"]
    assert change.detail == "password_change,other_sessions_ended=1" and change.actor == name
    every = " ".join(str(tuple(a)) for a in _audit_rows(client_as.engine, name))
    assert TEST_PASSWORD not in every and NEW_PASSWORD not in every


@pytest.mark.parametrize(("new", "english", "chinese"), [
    ("short1", "at least 10 characters", "至少 10 位"),
    ("onlyletterslong", "letters and digits", "字母和数字"),
    (TEST_PASSWORD, "differ from the current one", "不能与当前密码相同"),
    ("{name}2026abc", "must not contain the username", "不能包含用户名"),
])
def test_password_policy_messages_name_the_rule(client_as, fixed_clock, new, english, chinese):
    client = client_as("grid_worker", "370102001000")
    r = _change(client, TEST_PASSWORD, new.format(name=client.username.upper()))
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid" and body["field"] == "new_password"
    assert english in body["message"] and chinese in body["message_zh"]
    assert _login(client_as.anonymous(), client.username).status_code == 200  # unchanged


def test_wrong_current_password_counts_towards_the_lockout_and_the_lock_ends_sessions(client_as, fixed_clock):
    attempts = get_settings().login_lockout_attempts
    client = client_as("grid_worker", "370102001000")
    for _ in range(attempts - 1):
        r = _change(client, "Wrong2026pass", NEW_PASSWORD)
        assert r.status_code == 400 and r.json()["field"] == "current_password"
        assert r.json()["message_zh"] == "当前密码不正确"
    assert client.get("/api/v1/auth/me").status_code == 200
    r = _change(client, "Wrong2026pass", NEW_PASSWORD)
    assert r.status_code == 423 and r.json()["code"] == "account_locked"
    assert client.get("/api/v1/auth/me").status_code == 401  # a stolen session cannot keep guessing
    # from this address even the right password is refused now (answered as a wrong one) ...
    assert _login(client_as.anonymous(), client.username).json()["code"] == "invalid_credentials"
    # ... while the owner elsewhere signs in as usual
    elsewhere = TestClient(client_as.app, client=("198.51.100.7", 40000))
    assert _login(elsewhere, client.username).status_code == 200
    denied = [a for a in _audit_rows(client_as.engine, client.username)
              if (a.detail or "").startswith("password_change")]
    assert len(denied) == attempts and {a.result for a in denied} == {"denied"}
    assert denied[-1].detail == "password_change:bad_current,locked_out"


def test_an_administrator_changes_their_own_password_only_with_the_current_one(client_as, fixed_clock):
    admin = client_as("county_admin", "370102")
    r = admin.patch(f"/api/v1/users/{admin.username}", json={"password": NEW_PASSWORD})
    assert r.status_code == 403 and r.json()["field"] == "password"
    assert "/auth/password" in r.json()["message"]
    # resetting someone else's password stays possible (and needs no current password)
    worker = client_as.user("grid_worker", "370102001000")
    assert admin.patch(f"/api/v1/users/{worker}", json={"password": NEW_PASSWORD}).status_code == 200
    assert _login(client_as.anonymous(), worker, NEW_PASSWORD).status_code == 200


def test_the_service_refuses_a_deactivated_account(engine):
    name = "gone.user"
    service.create_user(engine, username=name, password=TEST_PASSWORD, role="grid_worker",
                        region_code="370102001000")
    _token, user = service.login(engine, username=name, password=TEST_PASSWORD)
    service.update_user(engine, username=name, by=None, active=False)
    with pytest.raises(service.errors.ApiError) as e:
        service.change_password(engine, user=user, current_password=TEST_PASSWORD,
                                new_password=NEW_PASSWORD, token=None)
    assert e.value.code == "not_signed_in"
