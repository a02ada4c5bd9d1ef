"""Engine and schema plumbing shared by every capability's store.

SQLite is the embedded default: WAL for concurrent readers, synchronous=FULL so a
committed transaction survives a power cut, foreign keys on. PostgreSQL through psycopg 3.
The SQLite file holds the register: it is created 0600 (SQLite gives its -wal and -shm the
database file's mode), in a data folder created 0700, whatever the process's umask.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, func, select, text

from safetynet.files import private_dir, private_file

# Deterministic constraint names so Alembic migrations are reproducible on both databases.
if TYPE_CHECKING:
    import pyarrow as pa

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # PostgreSQL: keep a connection per concurrent web request (the default 5 made every busier
    # moment open and close backends: a process fork each, and no reuse of prepared statements)
    engine = create_engine(url, future=True, **({"pool_size": 20} if url.startswith("postgresql") else {}))
    if engine.dialect.name == "sqlite":
        _create_private(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _create_private(database: str | None) -> None:
    """Create a SQLite database file that does not exist yet as an empty file, 0600, before
    SQLite opens it (SQLite would create it 0644 less the umask; an empty file is an empty
    database), and its missing folders 0700. SQLite creates the -wal and -shm files with the
    database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        private_dir(path.parent)
        private_file(path)


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the process."""
    if url is None:
        from safetynet.config import get_settings

        settings = get_settings()
        private_dir(settings.data_dir)
        url = settings.resolved_database_url()
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: committed whole or rolled back whole."""
    with engine.begin() as conn:
        yield conn


# --- bulk paths for large imports ------------------------------------------------------
# SQLAlchemy's executemany costs ~30 µs a row in parameter handling; a register of a
# million persons spends most of its time there. These helpers go to the driver directly
# (sqlite3 executemany, PostgreSQL COPY) with the column types' own bind processors, so
# values are stored exactly as SQLAlchemy would store them.


def _processed_columns(conn: Connection, table: Table, columns: list[str], rows: list[dict]) -> list[list]:
    out = []
    for name in columns:
        proc = table.c[name].type._cached_bind_processor(conn.dialect)
        values = [r.get(name) for r in rows]
        out.append([proc(v) if v is not None else None for v in values] if proc else values)
    return out


def bulk_insert(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert many rows inside the caller's transaction."""
    if not rows:
        return
    columns = [c.name for c in table.columns if c.name in rows[0]]
    insert_tuples(conn, table.name, columns, list(zip(*_processed_columns(conn, table, columns, rows),
                                                      strict=True)))


def insert_tuples(conn: Connection, table_name: str, columns: list[str], rows: list[tuple]) -> None:
    """Rows already in the driver's form, in one driver call: COPY on PostgreSQL, sqlite3
    executemany on SQLite (also for temporary tables the caller created)."""
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()
    cols = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table_name} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table_name} ({cols}) VALUES ({marks})", rows)


def bulk_update(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Update many rows by id (every row carries the same columns)."""
    if not rows:
        return
    columns = [c.name for c in table.columns if c.name in rows[0] and c.name != "id"]
    data = list(zip(*_processed_columns(conn, table, [*columns, "id"], rows), strict=True))
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    sets = ", ".join(f"{c} = {mark}" for c in columns)
    cursor = conn.connection.driver_connection.cursor()
    cursor.executemany(f"UPDATE {table.name} SET {sets} WHERE id = {mark}", data)


def reserve_ids(conn: Connection, table: Table, n: int) -> int:
    """First of `n` consecutive new primary keys for `table`. The caller holds the import
    lock (`lock_for_import`), so no other writer takes them; PostgreSQL's sequence is moved
    past them so ordinary inserts afterwards do not collide."""
    start = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    if conn.dialect.name == "postgresql" and n:
        conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                     {"t": table.name, "v": start + n - 1})
    return start


def lock_for_import(conn: Connection, name: str) -> None:
    """Serialise bulk imports of one kind (SQLite serialises every writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})


def fetch_by_keys(conn: Connection, table: Table, key: str, keys: list, extra_where: str = "") -> list[dict]:
    """Rows of `table` whose `key` is in `keys`, via a temporary key table and a join:
    one round trip whatever the number of keys."""
    if not keys:
        return []
    key_type = "BIGINT" if isinstance(keys[0], int) else "TEXT"
    conn.exec_driver_sql("DROP TABLE IF EXISTS tmp_import_keys")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE tmp_import_keys (k {key_type} PRIMARY KEY)")
    insert_tuples(conn, "tmp_import_keys", ["k"], [(k,) for k in dict.fromkeys(keys)])
    cursor = conn.connection.driver_connection.cursor()
    cols = ", ".join(f"t.{c.name}" for c in table.columns)
    where = f" WHERE {extra_where}" if extra_where else ""
    cursor.execute(f"SELECT {cols} FROM {table.name} t JOIN tmp_import_keys k ON t.{key} = k.k{where}")
    raw = cursor.fetchall()
    names = [c.name for c in table.columns]
    # only some columns need converting (dates on SQLite); touch just those
    procs = [(n, p) for n, p in ((c.name, c.type._cached_result_processor(conn.dialect, None))
                                 for c in table.columns) if p]
    out = [dict(zip(names, r, strict=True)) for r in raw]
    for name, proc in procs:
        for row in out:
            value = row[name]
            if value is not None:
                row[name] = proc(value)
    conn.exec_driver_sql("DROP TABLE tmp_import_keys")
    return out


# --- Arrow-native reads (ADBC) ------------------------------------------------------------
# Exporting millions of rows through DB-API tuples costs ~10 µs a row in Python; ADBC drivers
# build Arrow columns in C (PostgreSQL via COPY binary).
#
# The ADBC SQLite driver carries its own copy of SQLite. Two copies in one process break
# SQLite's POSIX locking (closing one copy's file descriptor drops the other copy's locks:
# sqlite.org/howtocorrupt.html §2.2.1), so SQLite is read in a child process, which streams
# Arrow IPC back through a pipe.

# The driver infers each column's type from its first batch (an all-NULL first batch would
# become int64 and fail on a later string): one batch of everything lets it see every value.
_SQLITE_BATCH_ROWS = 1 << 30
# The low-level driver API: `adbc_driver_manager.dbapi` imports pandas (~1 s per child).
_SQLITE_CHILD = """
import sys
import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pyarrow as pa
db = adbc_driver_sqlite.connect(sys.argv[1])
conn = adbc.AdbcConnection(db)
stmt = adbc.AdbcStatement(conn)
stmt.set_options(**{"adbc.sqlite.query.batch_rows": sys.argv[2]})
stmt.set_sql_query(sys.stdin.read())
reader = pa.RecordBatchReader.from_stream(stmt.execute_query()[0])
with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
    for batch in reader:
        out.write_batch(batch)
"""


def adbc_supported(engine: Engine) -> bool:
    """Whether `fetch_arrow` has an Arrow-native path for this engine's database."""
    if engine.dialect.name == "postgresql":
        return True
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def fetch_arrow(engine: Engine, sql: str) -> pa.Table:
    """The result of one SELECT (a SQL string, parameters inlined) as an Arrow table, through
    ADBC. Column types are the driver's: on SQLite, dates and decimals arrive as strings and a
    column with only NULLs as int64; callers cast to the schema they want."""
    import pyarrow as pa  # here: every command imports this module, few need Arrow

    if not adbc_supported(engine):
        raise ValueError(f"no ADBC path for {engine.url.render_as_string()}; see adbc_supported")
    if engine.dialect.name == "postgresql":
        import adbc_driver_manager as adbc
        import adbc_driver_postgresql

        uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with (adbc_driver_postgresql.connect(uri) as database, adbc.AdbcConnection(database) as conn,
              adbc.AdbcStatement(conn) as stmt):
            stmt.set_sql_query(sql)
            return pa.RecordBatchReader.from_stream(stmt.execute_query()[0]).read_all()
    uri = f"file:{quote(engine.url.database)}?mode=ro"  # a URI: '?', '#' or '%' in the path escaped
    # stderr to a file, not a pipe: a child blocked on a full stderr pipe would never finish
    # the stream this process is waiting for
    with tempfile.TemporaryFile() as err_file:
        child = subprocess.Popen([sys.executable, "-c", _SQLITE_CHILD, uri, str(_SQLITE_BATCH_ROWS)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err_file)
        try:
            # the query is small and the child reads it whole before writing anything
            child.stdin.write(sql.encode())
            child.stdin.close()
            table = pa.ipc.open_stream(child.stdout).read_all()
        except pa.ArrowInvalid:
            table = None  # the child failed before writing a whole stream: its stderr says why
        finally:
            child.stdout.close()
            child.wait()
        err_file.seek(0)
        err = err_file.read().decode(errors="replace")
    if child.returncode != 0 or table is None:
        raise RuntimeError(f"reading {engine.url.database} through ADBC failed "
                           f"(exit {child.returncode}): {err.strip()[-2000:]}")
    return table
