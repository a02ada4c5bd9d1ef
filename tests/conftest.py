"""Shared fixtures. The suite runs against SQLite by default and against PostgreSQL when
SAFETYNET_TEST_DATABASE_URL points at a server (CI runs both; see .ci/run).

Each test gets a fresh database copied from a per-session template that has been migrated
and seeded once, so tests are isolated without paying for migrations each time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.regions import service as regions_service

PG_URL = os.environ.get("SAFETYNET_TEST_DATABASE_URL", "")
# Cheap Argon2 parameters for tests (hashes still verify; production uses the defaults).
os.environ.setdefault("SAFETYNET_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("SAFETYNET_PASSWORD_HASH_MEMORY_KIB", "1024")
# A fixed key for encrypted TOTP seeds, so tests never write a key file into ./data.
os.environ.setdefault("SAFETYNET_SECRET_KEY", "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LTMyYiE=")
# The session cookie is Secure by default (HTTPS only), and the TestClient speaks plain
# http://testserver, whose cookie jar would never send it back; the test of the default unsets this.
os.environ.setdefault("SAFETYNET_SESSION_COOKIE_SECURE", "false")
# The CLI's tables and messages are laid out for the terminal's width; a test process has none (an
# xdist worker's consoles fell back to 80 columns and wrapped the text the tests look for).
os.environ["COLUMNS"] = "200"


def _pg_admin(url: str) -> Engine:
    base = url.rsplit("/", 1)[0] + "/postgres"
    return create_engine(base.replace("postgresql://", "postgresql+psycopg://"),
                         isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    """A migrated, seeded database to copy: a file for SQLite, a template db for PostgreSQL."""
    if PG_URL:
        name = f"safetynet_tmpl_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin(PG_URL)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(url)
        init_database(engine)
        regions_service.seed_demo_province(engine, province="37", seed=0)
        engine.dispose()
        yield name
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        init_database(engine)
        regions_service.seed_demo_province(engine, province="37", seed=0)
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)


@pytest.fixture
def engine(_template: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated database with the official regions and the demo province tree."""
    if PG_URL:
        name = f"safetynet_t_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin(PG_URL)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template}"'))
        eng = make_engine(PG_URL.rsplit("/", 1)[0] + "/" + name)
        yield eng
        eng.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "safetynet.sqlite3"
        shutil.copy(_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()


@pytest.fixture
def settings_env(engine: Engine, tmp_path: Path, monkeypatch) -> Path:  # noqa: ANN001
    """Point the CLI (which reads settings) at the test database and a temp data dir."""
    from safetynet import db
    from safetynet.config import get_settings

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", url)
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    db._engines[url] = engine
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def synthetic_province(tmp_path_factory) -> Path:  # noqa: ANN001
    """A small synthetic province (2,000 persons, 2 months from 2025-01), generated once."""
    from safetynet.synth.service import generate

    out = tmp_path_factory.mktemp("synth")
    generate(persons=2000, months=2, seed=1, out=out)
    return out


# --- signed-in API clients (auth) -----------------------------------------------------------

TEST_PASSWORD = "Test@2026pw"


class ClientFactory:
    """`client_as(role, region="370102")` → a TestClient signed in as a fresh user of that role.
    All clients of one test share one app (`client_as.app`), so `client_as.app.state.clock`
    can be replaced to move time for every client. An administrator's client has enrolled its
    second factor through the API (administrators must), its seed in `client.totp_secret`;
    `client_as.user(...)` creates the account only (an administrator's without a second factor)."""

    def __init__(self, engine: Engine) -> None:
        from safetynet.api.app import create_app

        self.engine = engine
        self.app = create_app(engine)
        self._n = 0

    def user(self, role: str, region: str = "370102", *, department: str | None = None,
             username: str | None = None, password: str = TEST_PASSWORD) -> str:
        """Create the account only; returns its username."""
        from safetynet.auth import service

        self._n += 1
        username = username or f"{role.replace('_', '')[:20]}{self._n}x{uuid.uuid4().hex[:4]}"
        if role == "department_liaison" and department is None:
            department = "medical_insurance"
        service.create_user(self.engine, username=username, password=password, role=role,
                            region_code=region, department=department)
        return username

    def anonymous(self):  # noqa: ANN201
        from fastapi.testclient import TestClient

        return TestClient(self.app)

    def __call__(self, role: str, region: str = "370102", *, department: str | None = None,
                 username: str | None = None):  # noqa: ANN204
        username = self.user(role, region, department=department, username=username)
        client = self.anonymous()
        r = client.post("/api/v1/auth/login", json={"username": username, "password": TEST_PASSWORD})
        assert r.status_code == 200, r.text
        client.username = username
        must_enrol = r.json()["user"]["totp_enrolment_required"]
        client.totp_secret = self.enrol_totp(client) if must_enrol else None
        return client

    def enrol_totp(self, client) -> str:  # noqa: ANN001
        """Set up and confirm the second factor of the administrator signed in on `client` (the
        same session then reaches every route); returns the seed. The confirming code is of the
        app clock's time step, which is then spent."""
        import pyotp

        secret = client.post("/api/v1/auth/totp/setup").json()["secret"]
        code = pyotp.TOTP(secret).at(self.app.state.clock())
        r = client.post("/api/v1/auth/totp/confirm", json={"code": code})
        assert r.status_code == 200, r.text
        return secret


@pytest.fixture
def client_as(engine: Engine) -> ClientFactory:
    return ClientFactory(engine)


# --- which tests run where --------------------------------------------------------------------------

#: fixtures that put a test on the database under test (directly or through the app, the CLI or the
#: demo server); a test without any of them (nor the `database` mark) runs the same on both
#: databases, so only once (SQLite)
_DATABASE_FIXTURES = frozenset({"engine", "_template", "demo_site", "empty_database"})


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    """On PostgreSQL, only the tests that touch the database. (scripts/test.sh runs pytest-xdist with
    `--dist loadfile`: a file's tests stay on one worker, since some files share state between their
    tests; the xdist_group marks tried before were never applied to the workers' node ids.)"""
    if PG_URL:
        keep = [i for i in items if _DATABASE_FIXTURES & set(getattr(i, "fixturenames", ()))
                or i.get_closest_marker("database")]
        if len(keep) < len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep
