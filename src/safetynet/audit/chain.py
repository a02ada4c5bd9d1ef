"""Writing and checking the audit log's hash chain (the hashes themselves: audit/model.py).

The key is derived (HKDF-SHA256, its own label) from the server's secret key
(`auth.encryption.load_key`: SAFETYNET_SECRET_KEY or <data_dir>/secret.key), so the chain
and the encrypted TOTP seeds share one secret to back up but never one key.

Appending is serialised on the one-row `audit_chain_head`: a writer's first statement updates
it (a row lock on PostgreSQL until its transaction ends; SQLite lets one writer in at a time
anyway), so two writers never chain to the same previous row. A caller's transaction that
writes an audit row therefore holds that lock to its end: record audit rows last.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress

from sqlalchemy import Connection, Engine, bindparam, insert, inspect, select, update

from safetynet.audit import model
from safetynet.audit.store import audit_chain_head, audit_log
from safetynet.errors import SafetynetError

_HKDF_INFO = b"safetynet audit-log hash chain v1"
_keys: dict[tuple[str, str], bytes] = {}
_keys_lock = threading.Lock()
_key: tuple[object, bytes] | None = None  # (the settings it was derived under, the key)
_warned: set[bytes] = set()
log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _key_check(key: bytes) -> str:
    return model.key_check(key)


def audit_key() -> bytes:
    """The chain's HMAC key, derived once per process (per configured server key)."""
    from safetynet.config import get_settings

    settings = get_settings()
    cached = _key
    if cached is not None and cached[0] is settings:  # settings are cached: the same object
        return cached[1]
    return _derive_key(settings)


def _derive_key(settings) -> bytes:  # noqa: ANN001
    global _key
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from safetynet.auth import encryption

    ident = (settings.secret_key.get_secret_value(), str(encryption.key_file(settings)))
    with _keys_lock:
        key = _keys.get(ident)
        if key is None:
            server = encryption.load_key(settings, create=True).key
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(server)
            _keys[ident] = key
        _key = (settings, key)
    return key


# Each append, in one transaction: take the head (the first statement updates it, so the lock
# comes before the read), insert the row chained to the head's hash, move the head to it.
# PostgreSQL takes the id from the table's sequence (rows written any other way cannot collide
# with it); SQLite, one writer at a time, the next id after every row there is. Straight through
# the driver: this runs on every household detail read, and SQLAlchemy's statement handling
# cost as much as the round trips themselves.
_COLUMNS = (*model.CONTENT, "prev_hash", "hash")
_HEAD_SET = "UPDATE audit_chain_head SET last_hash = {hash}, head_mac = {head_mac} WHERE id = 1"
_PG_TAKE = ("UPDATE audit_chain_head SET last_id = nextval(pg_get_serial_sequence('audit_log', 'id')) "
            "WHERE id = 1 RETURNING last_id, last_hash, key_check")
_PG_WRITE = (f"WITH new_row AS (INSERT INTO audit_log ({', '.join(_COLUMNS)}) "  # one round trip for both
             f"VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)})) "
             + _HEAD_SET.format(hash="%(hash)s", head_mac="%(head_mac)s"))
_SQLITE_TAKE = ("UPDATE audit_chain_head SET last_id = max(last_id, coalesce((SELECT max(id) FROM "
                "audit_log), 0)) + 1 WHERE id = 1 RETURNING last_id, last_hash, key_check")
_SQLITE_INSERT = (f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) "
                  f"VALUES ({', '.join(':' + c for c in _COLUMNS)})")
_SQLITE_HEAD = _HEAD_SET.format(hash=":hash", head_mac=":head_mac")


def _link(head, row: dict, key: bytes) -> dict:  # noqa: ANN001
    if head is None:
        raise SafetynetError("the audit log has no chain head (audit_chain_head is empty): run "
                             "`safetynet db-upgrade`")
    if head[2] != _key_check(key) and key not in _warned:
        # Still written (an audited action is not refused for it), but `audit verify` will report
        # these rows: say so now, once, where the operator looks.
        _warned.add(key)
        log.error("this server's secret key (SAFETYNET_SECRET_KEY or secret.key) is not the one the audit "
                  "chain was made with: the audit rows it writes will not verify. Give every server the "
                  "same key (restore the original one)")
    row = row | {"id": int(head[0]), "prev_hash": head[1]}
    row["hash"] = model.row_hash(key, head[1], row)
    row["head_mac"] = model.head_mac(key, row["id"], row["hash"])
    return row


def _append_postgres(raw, row: dict, key: bytes) -> int:  # noqa: ANN001
    """In the caller's transaction: two statements. On a connection in autocommit, in a
    transaction of its own in two round trips: BEGIN with the head's UPDATE, the write with
    COMMIT (values bound by psycopg on the client, which lets one query hold two statements)."""
    own = raw.autocommit
    if not own:
        with raw.cursor() as cur:
            cur.execute(_PG_TAKE)
            row = _link(cur.fetchone(), row, key)
            cur.execute(_PG_WRITE, row)
        return row["id"]
    from psycopg import ClientCursor

    with ClientCursor(raw) as cur:
        try:
            cur.execute("BEGIN; " + _PG_TAKE)
            cur.nextset()
            row = _link(cur.fetchone(), row, key)
            cur.execute(_PG_WRITE + "; COMMIT", row)
        except BaseException:
            if not raw.closed:
                with suppress(Exception):  # the first error is the one to report
                    cur.execute("ROLLBACK")
            raise
    return row["id"]


def _append_sqlite(raw, row: dict, key: bytes, at_text) -> int:  # noqa: ANN001
    """In the caller's transaction (the driver begins one before the first UPDATE), or in an
    IMMEDIATE one of its own on a connection in autocommit."""
    own = raw.isolation_level is None and not raw.in_transaction
    cur = raw.cursor()
    try:
        if own:
            cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(_SQLITE_TAKE)
            row = _link(cur.fetchone(), row, key)
            cur.execute(_SQLITE_INSERT, row | {"at": at_text(row["at"])})
            cur.execute(_SQLITE_HEAD, row)
        except BaseException:
            if own and raw.in_transaction:
                with suppress(Exception):
                    cur.execute("ROLLBACK")
            raise
        if own:
            cur.execute("COMMIT")
    finally:
        cur.close()
    return row["id"]


def append(conn: Connection, row: dict) -> int:
    """Insert `row` (every CONTENT column but id; `at` in UTC) as the chain's next link, inside
    the caller's transaction (a connection in autocommit gets one of its own); its id."""
    key = audit_key()
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        return _append_postgres(raw, row, key)
    # the column type's own text form of a time (what SQLAlchemy reads back)
    return _append_sqlite(raw, row, key, audit_log.c.at.type._cached_bind_processor(conn.dialect))


def chain_existing(conn: Connection, key: bytes | None = None, *, batch: int = 10_000) -> int:
    """Hash every row not yet chained, in id order, after the last chained one, and write the
    head (migration 0017 for the rows written before the chain; UPDATE triggers dropped by the
    caller). Returns the number of rows chained."""
    key = key or audit_key()
    last = conn.execute(select(audit_log.c.id, audit_log.c.hash).where(audit_log.c.hash.is_not(None))
                        .order_by(audit_log.c.id.desc()).limit(1)).first()
    prev_id, prev_hash = (last.id, last.hash) if last else (0, model.GENESIS)
    done = 0
    cols = [audit_log.c[c] for c in model.CONTENT]
    set_hash = (update(audit_log).where(audit_log.c.id == bindparam("row_id"))
                .values(prev_hash=bindparam("p"), hash=bindparam("h")))
    while True:
        rows = conn.execute(select(*cols).where(audit_log.c.id > prev_id).order_by(audit_log.c.id)
                            .limit(batch)).all()
        if not rows:
            break
        updates = []
        for r in rows:
            h = model.row_hash(key, prev_hash, r)
            updates.append({"row_id": r.id, "p": prev_hash, "h": h})
            prev_id, prev_hash = r.id, h
        conn.execute(set_hash, updates)
        done += len(rows)
    values = {"last_id": prev_id, "last_hash": prev_hash, "head_mac": model.head_mac(key, prev_id, prev_hash),
              "key_check": model.key_check(key)}
    if conn.execute(select(audit_chain_head.c.id)).first() is None:
        conn.execute(insert(audit_chain_head).values(id=1, **values))
    else:
        conn.execute(update(audit_chain_head).where(audit_chain_head.c.id == 1).values(**values))
    return done


def verify(engine: Engine, *, progress: Callable[[int], None] | None = None,
           batch: int = 10_000) -> model.Report:
    """Recompute the whole chain: the first break, if any (see model.check_chain). Reads in
    pages by id so a log of millions of rows needs little memory; `progress(n)` after each."""
    key = audit_key()

    def rows(conn: Connection) -> Iterator:
        after, seen = None, 0
        while True:
            q = select(audit_log).order_by(audit_log.c.id).limit(batch)
            if after is not None:
                q = q.where(audit_log.c.id > after)
            page = conn.execute(q).all()
            if not page:
                return
            yield from page
            after, seen = page[-1].id, seen + len(page)
            if progress:
                progress(seen)

    if not inspect(engine).has_table("audit_chain_head"):
        return model.check_chain([], head=None, key=key)  # "run db-upgrade"
    # one snapshot: the head and the rows as of the same moment (REPEATABLE READ on PostgreSQL;
    # on SQLite an explicit BEGIN: the driver would otherwise end the read after each statement)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")
            head = conn.execute(select(audit_chain_head).where(audit_chain_head.c.id == 1)).first()
            return model.check_chain(rows(conn), head=head, key=key)
