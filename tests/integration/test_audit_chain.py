"""The audit log's hash chain (issue 15, item 10): every row written by `audit.record` is chained
to the one before with an HMAC of the server key, so someone with rights on the database who drops
the append-only triggers and deletes, alters or forges rows in a copy of the store is caught by
`safetynet audit verify` — at the first broken row and with what is wrong."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from safetynet.audit import chain
from safetynet.audit import service as audit
from safetynet.audit.model import utc
from safetynet.audit.store import audit_chain_head, audit_log
from safetynet.bootstrap import alembic_config
from safetynet.db import make_engine
from tests.conftest import PG_URL, _pg_admin


class _Actor:
    username, role, region_code = "caseworker1", "township_caseworker", "370402001000"


def _write(engine: Engine, n: int = 6) -> None:
    """Rows the three ways the platform writes them: own transaction, the caller's, autocommit."""
    for i in range(n):
        kind = i % 3
        kw = dict(actor=_Actor, action="read", object_type="household", object_id=f"H{i:03d}",
                  fields=["monthly_benefit_fen", "care_level"], purpose=f"入户核查 {i}",
                  at=dt.datetime(2026, 5, 1, 8, i, tzinfo=dt.timezone(dt.timedelta(hours=8))))
        if kind == 0:
            audit.record(engine, **kw)
        elif kind == 1:
            with engine.begin() as c:
                audit.record(None, conn=c, **kw)
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                audit.record(None, conn=c, **kw)


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as c:
        return list(c.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(audit_log)).scalar_one()


@pytest.fixture
def copy_of(engine: Engine, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """`copy_of()` → an engine on a copy of the test's store (SQLite: a backup of the file;
    PostgreSQL: a database made from it as template), as an attacker would take one."""
    made: list[tuple[Engine, str | None]] = []

    def make() -> Engine:
        if PG_URL:
            name = f"safetynet_copy_{uuid.uuid4().hex[:8]}"
            source = engine.url.database
            engine.dispose()  # a template database must have no other sessions
            with _pg_admin(PG_URL).connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
            copy = make_engine(PG_URL.rsplit("/", 1)[0] + "/" + name)
            made.append((copy, name))
            return copy
        path = tmp_path / f"copy-{uuid.uuid4().hex[:6]}.sqlite3"
        src, dst = sqlite3.connect(engine.url.database), sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        copy = make_engine(f"sqlite:///{path}")
        made.append((copy, None))
        return copy

    yield make
    for copy, name in made:
        copy.dispose()
        if name:
            with _pg_admin(PG_URL).connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _drop_triggers(engine: Engine) -> None:
    """What anyone with rights on the database can do first."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))


def _cli_verify(engine: Engine, monkeypatch, data_dir: Path) -> tuple[int, dict]:  # noqa: ANN001
    from safetynet import db
    from safetynet.cli.main import app
    from safetynet.config import get_settings

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", url)
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    db._engines[url] = engine
    try:
        r = CliRunner().invoke(app, ["audit", "verify", "--json"])
    finally:
        get_settings.cache_clear()
    return r.exit_code, json.loads(r.stdout)


def test_every_row_is_chained_and_the_log_verifies(engine: Engine, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    _write(engine)
    with pytest.raises(RuntimeError), engine.begin() as c:  # a rolled-back row takes no link
        audit.record(None, conn=c, actor="x", action="write", object_type="user", object_id="u")
        raise RuntimeError("the change failed")
    _write(engine, 3)
    report = audit.verify(engine)
    assert report.ok and report.rows == _count(engine) and report.last_id == _ids(engine)[-1]
    with engine.connect() as c:
        rows = c.execute(select(audit_log).order_by(audit_log.c.id)).all()
        head = c.execute(select(audit_chain_head)).one()
    assert all(r.hash and len(r.hash) == 64 for r in rows)
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert (head.last_id, head.last_hash) == (rows[-1].id, rows[-1].hash)
    # stored in UTC: 08:00 in Beijing is 00:00 UTC
    mine = [r for r in rows if r.object_id == "H000"][0]
    assert utc(mine.at) == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    code, out = _cli_verify(engine, monkeypatch, tmp_path / "data")
    assert code == 0 and out == {"ok": True, "rows": report.rows, "last_id": report.last_id}


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    threads, each = 8, 25
    before = _count(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(k: int) -> None:
        try:
            start.wait()
            for i in range(each):
                if (k + i) % 2:
                    audit.record(engine, actor=_Actor, action="read", object_type="household",
                                 object_id=f"T{k}-{i}")
                else:
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        audit.record(None, conn=c, actor=_Actor, action="read", object_type="person",
                                     object_id=f"T{k}-{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert _count(engine) == before + threads * each
    with engine.connect() as c:
        prevs = c.execute(select(audit_log.c.prev_hash)).scalars().all()
    assert len(set(prevs)) == len(prevs)  # no two rows chained to the same row: no fork
    report = audit.verify(engine)
    assert report.ok and report.rows == before + threads * each


def _row(engine: Engine, row_id: int):  # noqa: ANN202
    with engine.connect() as c:
        return c.execute(select(audit_log).where(audit_log.c.id == row_id)).one()


def _forge(c, row_id: int, **extra) -> None:  # noqa: ANN001
    c.execute(sa.insert(audit_log).values(
        id=row_id, at=dt.datetime(2026, 5, 2, tzinfo=dt.UTC), actor="ghost", action="read",
        object_type="household", object_id="H999", result="ok", **extra))


# (what the attacker does, given the store's ids) → (problem, the row verify names)
TAMPERING: dict[str, tuple[Callable, str, Callable]] = {
    "delete a row": (lambda c, ids: c.execute(sa.delete(audit_log).where(audit_log.c.id == ids[-3])),
                     "missing", lambda ids: ids[-2]),
    "alter a row": (lambda c, ids: c.execute(sa.update(audit_log).where(audit_log.c.id == ids[-3])
                                             .values(purpose="nothing to see")),
                    "altered", lambda ids: ids[-3]),
    "alter a row's time": (lambda c, ids: c.execute(sa.update(audit_log).where(audit_log.c.id == ids[-1])
                                                    .values(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))),
                           "altered", lambda ids: ids[-1]),
    "forge an insert without a hash": (lambda c, ids: _forge(c, ids[-1] + 1), "inserted",
                                       lambda ids: ids[-1] + 1),
    "forge an insert with a made-up hash": (
        lambda c, ids: _forge(c, ids[-1] + 1, prev_hash=c.execute(select(audit_log.c.hash).where(
            audit_log.c.id == ids[-1])).scalar_one(), hash="ab" * 32), "inserted", lambda ids: ids[-1] + 1),
    "delete the newest rows": (
        lambda c, ids: c.execute(sa.delete(audit_log).where(audit_log.c.id >= ids[-2])), "missing",
        lambda ids: ids[-3]),
    "delete the first rows": (lambda c, ids: c.execute(sa.delete(audit_log).where(audit_log.c.id <= ids[1])),
                              "missing", lambda ids: ids[2]),
}


@pytest.mark.parametrize("attack", list(TAMPERING))
def test_tampering_with_a_copy_of_the_store_is_detected(engine: Engine, copy_of, monkeypatch,  # noqa: ANN001
                                                        tmp_path: Path, attack: str) -> None:
    _write(engine)
    ids = _ids(engine)
    copy = copy_of()
    _drop_triggers(copy)
    tamper, problem, where = TAMPERING[attack]
    with copy.begin() as c:
        tamper(c, ids)
    report = audit.verify(copy)
    assert not report.ok
    assert (report.broken.problem, report.broken.row_id) == (problem, where(ids)), report.broken
    assert report.broken.message and report.broken.message_zh
    code, out = _cli_verify(copy, monkeypatch, tmp_path / "data")
    assert code == 1 and out["ok"] is False and (out["problem"], out["row_id"]) == (problem, where(ids))
    assert audit.verify(engine).ok  # the original is untouched


def test_truncating_and_setting_the_head_back_is_detected(engine: Engine, copy_of) -> None:  # noqa: ANN001
    _write(engine)
    ids = _ids(engine)
    copy = copy_of()
    _drop_triggers(copy)
    kept = _row(copy, ids[-2])
    with copy.begin() as c:
        c.execute(sa.delete(audit_log).where(audit_log.c.id == ids[-1]))
        c.execute(sa.update(audit_chain_head).values(last_id=kept.id, last_hash=kept.hash))
    report = audit.verify(copy)
    assert not report.ok and report.broken.problem == "head"


def test_another_server_key_is_named_as_such(engine: Engine, monkeypatch, caplog) -> None:  # noqa: ANN001
    """A server given another key (a lost key file, a second server set up apart) is told so when
    it writes, and verify names the cause rather than blaming every row."""
    from safetynet.auth.encryption import generate_key_text
    from safetynet.config import get_settings

    _write(engine, 2)
    monkeypatch.setenv("SAFETYNET_SECRET_KEY", generate_key_text())
    get_settings.cache_clear()
    try:
        report = audit.verify(engine)
        with caplog.at_level("ERROR", logger="safetynet.audit.chain"):
            audit.record(engine, actor="x", action="read", object_type="household")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert not report.ok and report.broken.problem == "key"
    assert "not the one the audit chain was made with" in caplog.text
    broken = audit.verify(engine)  # with the right key again: the row written with the other one
    assert not broken.ok and broken.broken.row_id == _ids(engine)[-1]


def test_the_audit_key_is_not_the_server_key() -> None:
    from safetynet.auth.encryption import load_key

    assert len(chain.audit_key()) == 32 and chain.audit_key() != load_key().key


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema yet (to migrate step by step)."""
    if PG_URL:
        name = f"safetynet_mig_{uuid.uuid4().hex[:8]}"
        with _pg_admin(PG_URL).connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        eng = make_engine(PG_URL.rsplit("/", 1)[0] + "/" + name)
        yield eng
        eng.dispose()
        with _pg_admin(PG_URL).connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
        yield eng
        eng.dispose()


def test_migration_chains_the_rows_written_before_it(empty_database: Engine) -> None:
    from alembic import command

    engine = empty_database
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016")
    # rows as the code before the chain wrote them (its own columns only)
    old = sa.table("audit_log", *(sa.column(c.name, c.type) for c in audit_log.columns
                                  if c.name not in ("prev_hash", "hash")))
    with engine.begin() as c:
        for i in range(25):
            c.execute(sa.insert(old).values(
                at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i), actor=f"u{i % 3}",
                action="read", object_type="household", object_id=f"H{i}", result="ok",
                fields='["income"]' if i % 2 else None))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017")
    report = audit.verify(engine)
    assert report.ok and report.rows == 25
    audit.record(engine, actor="after", action="read", object_type="household", object_id="H99")
    assert audit.verify(engine).rows == 26
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:  # the trigger is back
        c.execute(sa.update(audit_log).values(purpose="x"))


def test_a_failed_append_writes_nothing_and_leaves_the_connection_usable(engine: Engine) -> None:
    from safetynet.errors import SafetynetError

    before = _count(engine)
    with engine.begin() as c:
        c.execute(sa.delete(audit_chain_head))  # (not guarded: only the chain's own writer updates it)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        with pytest.raises(SafetynetError, match="no chain head"):
            audit.record(None, conn=c, actor="x", action="read", object_type="household")
        raw = c.connection.driver_connection
        assert not (raw.info.transaction_status.name != "IDLE" if engine.dialect.name == "postgresql"
                    else raw.in_transaction)  # no transaction left open on the pooled connection
        assert c.execute(select(func.count()).select_from(audit_log)).scalar_one() == before
    assert not audit.verify(engine).ok  # and verify says the head is gone
