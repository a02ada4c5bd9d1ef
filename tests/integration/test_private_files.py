"""Files of the data folder are private (issue 15, item 11): the database, the lake and the
attachments are created 0600 in folders 0700 even by a process whose umask would make them
world-readable (a library call, a test run), and a safetynet process sets the umask 0o077."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet import db
from safetynet.config import get_settings
from safetynet.db import get_engine, make_engine
from safetynet.feeds import service as feeds_service
from safetynet.files import make_private
from tests.factories import write_csv
from tests.integration.test_casework import DISPATCH, _act, _tasks, world  # noqa: F401 - `world` is a fixture
from tests.integration.test_feeds_ingest import MED_EN, med_rows


@pytest.fixture
def loose_umask():  # noqa: ANN201
    """The usual umask of a login shell: without explicit modes, files come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix() or ".": oct(stat.S_IMODE(p.stat().st_mode))
            for p in [root, *root.rglob("*")]}


def _assert_private(root: Path) -> None:
    modes = _modes(root)
    loose = {p: m for p, m in modes.items()
             if m != (oct(0o700) if (root / p).is_dir() else oct(0o600))}
    assert not loose, loose


def test_an_ingest_and_an_upload_leave_only_private_files(
        client_as, world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask) -> None:  # noqa: F811
    data = tmp_path / "data"
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(data))
    get_settings.cache_clear()
    engine = client_as.engine
    # an ingest into the data folder's lake: one row with a good id, one awaiting linkage
    rows = med_rows(2)
    rows[1][1] = ""
    delivery = write_csv(tmp_path / "in" / "medical_202510.csv", MED_EN, rows)
    [r] = feeds_service.ingest(engine, paths=[delivery], lake_dir=data / "lake", actor="test")
    assert (r.status, r.accepted, r.quarantined) == ("loaded", 1, 1)
    # an attachment uploaded with a field check's feedback
    client_as.app.state.clock = lambda: DISPATCH.astimezone(dt.UTC) + dt.timedelta(hours=2)
    _, users, _ = world
    from safetynet.casework import service as casework

    casework.dispatch_month(engine, month="2026-08", now=DISPATCH)
    task = _tasks(engine)["H001", "field_check"]["id"]
    _act(users["grid"], task, "accept")
    _act(users["grid"], task, "start")
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    form = {"outcome": "confirmed_need", "notes": "x"}
    got = users["grid"].post(f"/api/v1/tasks/{task}/feedback", data=form,
                             files={"file": ("visit.png", photo, "image/png")})
    assert got.status_code == 200, got.text

    modes = _modes(data)
    assert any(p.endswith(".parquet") for p in modes) and any(p.endswith(".png") for p in modes), modes
    _assert_private(data)
    get_settings.cache_clear()


def test_a_fresh_sqlite_database_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            loose_umask) -> None:
    # a database named by URL, in folders that do not exist yet
    path = tmp_path / "new" / "store" / "safetynet.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as c:  # a write in WAL mode: the -wal and -shm files exist while connected
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect() as c:
        assert c.execute(text("SELECT x FROM t")).scalar_one() == 1
        assert {p.name for p in path.parent.iterdir()} == {path.name, f"{path.name}-wal", f"{path.name}-shm"}
        _assert_private(tmp_path / "new")
    engine.dispose()

    # the embedded default: the data folder and the database in it
    data = tmp_path / "fresh" / "data"
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(data))
    monkeypatch.delenv("SAFETYNET_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    engine = get_engine()
    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    assert (data / "safetynet.sqlite3").exists()
    _assert_private(data)
    engine.dispose()
    db._engines.pop(engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()


def test_a_safetynet_process_creates_private_files(tmp_path: Path, loose_umask) -> None:
    make_private()
    (tmp_path / "made.txt").write_text("x")
    (tmp_path / "made").mkdir()
    assert _modes(tmp_path)["made.txt"] == oct(0o600) and _modes(tmp_path)["made"] == oct(0o700)


def test_serve_sets_the_private_umask(monkeypatch: pytest.MonkeyPatch, loose_umask) -> None:
    import uvicorn

    from safetynet.api import server

    seen = []

    def fake_run(self, sockets=None) -> None:  # noqa: ANN001
        current = os.umask(0)
        os.umask(current)
        seen.append(current)

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    server.run(host="127.0.0.1", port=0, app=object())
    assert seen == [0o077]


def test_every_command_of_the_cli_creates_private_files(tmp_path: Path) -> None:
    """The `safetynet` entry point itself sets the umask: a command run from a loose shell (0022)
    still leaves private files: here a synthetic province, whose writers do nothing of their own about
    modes."""
    import subprocess
    import sys

    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYNET_DATABASE_URL")}
    env["SAFETYNET_DATA_DIR"] = str(data)
    out = tmp_path / "province"
    argv = ["safetynet", "synth", "--persons", "100", "--months", "1", "--out", str(out)]
    command = ("import os, sys; os.umask(0o022); from safetynet.cli.main import app; "
               f"sys.argv = {argv!r}; app()")
    done = subprocess.run([sys.executable, "-c", command], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(out.rglob("*.csv"))
    _assert_private(out)
