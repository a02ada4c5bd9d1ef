"""Recording and listing warnings: one set-based upsert per monitor run and month.

For each candidate (rule, person) of a month the latest warning of that rule and person raised at
or before the month decides: inside the rule's suppression window (counted from the month it last
fired) and not closed, the rule firing again updates that warning; otherwise a new warning is
raised. Every month a warning fires is kept in `warning_firings`, so re-running a month is
idempotent and a month's list is exact."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, bindparam, case, func, select, text

from safetynet.db import insert_tuples, lock_for_import, reserve_ids
from safetynet.monitoring.store import monitor_runs, warning_firings, warnings

if TYPE_CHECKING:
    import pyarrow as pa

LEVELS = ("blue", "yellow", "orange", "red")  # ascending severity
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
SIDES = ("entry", "exit")
REQUIRED = ("rule", "id_number", "region_code", "level", "side")
OPTIONAL = ("person_id", "household_id", "household_no", "need", "value", "evidence")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class WarningInputError(ValueError):
    """A bad argument or candidate; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise WarningInputError("month", f"month must be YYYY-MM (e.g. 2026-03), got {month!r}")
    return month


def month_index(month: str) -> int:
    """Months since year 0, so that windows are a subtraction."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


@contextmanager
def _connection(engine_or_conn: Engine | Connection) -> Iterator[Connection]:
    """The caller's transaction when given a connection; otherwise one of our own."""
    if isinstance(engine_or_conn, Connection):
        yield engine_or_conn
    else:
        with engine_or_conn.begin() as conn:
            yield conn


# --- monitor runs -------------------------------------------------------------------------------

def start_run(engine_or_conn: Engine | Connection, *, month: str, engine_name: str, catalogue_digest: str,
              actor: str) -> int:
    check_month(month)
    with _connection(engine_or_conn) as conn:
        return conn.execute(monitor_runs.insert().values(
            month=month, engine=engine_name, catalogue_digest=catalogue_digest, status="running",
            started_at=datetime.now(UTC), actor=actor)).inserted_primary_key[0]


def finish_run(engine_or_conn: Engine | Connection, run_id: int, *, status: str = "finished",
               seconds: float | None = None, peak_rss_bytes: int | None = None,
               counts: dict | None = None) -> None:
    with _connection(engine_or_conn) as conn:
        conn.execute(monitor_runs.update().where(monitor_runs.c.id == run_id).values(
            status=status, finished_at=datetime.now(UTC), seconds=seconds, peak_rss_bytes=peak_rss_bytes,
            counts=counts))


# --- recording ----------------------------------------------------------------------------------

def _evidence_list(value: object, row: int) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise WarningInputError("evidence", f"candidate row {row}: evidence is not JSON: {e}") from e
    if not isinstance(value, list):
        raise WarningInputError("evidence", f"candidate row {row}: evidence must be a list, got {value!r}")
    return value


def _evidence_texts(values: list) -> list[str]:
    """Evidence as the JSON text to store. Strings are stored as given (re-running a month with the
    same input compares equal as text) after one parse of all of them together: parsing 100k
    small documents one by one costs more than the whole database work."""
    if all(isinstance(v, str) for v in values):
        try:
            parsed = json.loads("[" + ",".join(values) + "]")
            if len(parsed) == len(values) and all(isinstance(v, list) for v in parsed):
                return values
        except json.JSONDecodeError:
            pass
    # lists (an Arrow list column), None, or a bad row somewhere: row by row, naming the bad row
    return [json.dumps(_evidence_list(v, i), ensure_ascii=False) if v is not None else "[]"
            for i, v in enumerate(values)]


def _candidates(table: pa.Table) -> dict[tuple[str, str], dict]:
    """Candidate rows keyed by (rule, id_number); a pair given twice keeps its highest level."""
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise WarningInputError(missing[0], f"candidates lack column(s) {', '.join(missing)}")
    n = table.num_rows
    cols = {c: table.column(c).to_pylist() if c in table.column_names else [None] * n
            for c in (*REQUIRED, *OPTIONAL)}
    cols["evidence"] = _evidence_texts(cols["evidence"])
    out: dict[tuple[str, str], dict] = {}
    for i in range(n):
        row = {c: cols[c][i] for c in cols}
        for c in REQUIRED:
            if row[c] in (None, ""):
                raise WarningInputError(c, f"candidate row {i}: {c} is empty")
        if row["level"] not in LEVEL_RANK:
            raise WarningInputError("level", f"candidate row {i}: level {row['level']!r} not in {LEVELS}")
        if row["side"] not in SIDES:
            raise WarningInputError("side", f"candidate row {i}: side {row['side']!r} not in {SIDES}")
        if row["value"] is not None:
            row["value"] = str(row["value"])
        key = (row["rule"], row["id_number"])
        if key not in out or LEVEL_RANK[row["level"]] > LEVEL_RANK[out[key]["level"]]:
            out[key] = row
    return out


def _load_temp(conn: Connection, name: str, columns: dict[str, str], rows: list[tuple]) -> None:
    """A temporary table filled in one driver call (COPY on PostgreSQL, executemany on SQLite)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    ddl = ", ".join(f"{c} {t}" for c, t in columns.items())
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({ddl})")
    if not rows:
        return
    insert_tuples(conn, name, list(columns), rows)
    if conn.dialect.name == "postgresql":
        # temporary tables get no autovacuum statistics: without them the planner guesses its size
        conn.exec_driver_sql(f"ANALYZE {name}")


def _json_type(conn: Connection) -> str:
    return "JSON" if conn.dialect.name == "postgresql" else "TEXT"


def _existing(conn: Connection, keys: list[tuple[str, str]], month: str) -> dict[tuple[str, str], dict]:
    """The latest warning raised at or before `month` for each (rule, id_number), with its firing
    of `month` if any: one join through a temporary key table. Evidence comes back as JSON text."""
    _load_temp(conn, "tmp_warning_keys", {"rule": "TEXT", "id_number": "TEXT"}, keys)
    rows = conn.execute(text(
        "SELECT w.id, w.rule, w.id_number, w.month, w.last_month, w.status, w.level, w.value,"
        " CAST(w.evidence AS TEXT) AS evidence, w.fired_months, f.level AS f_level, f.value AS f_value,"
        " CAST(f.evidence AS TEXT) AS f_evidence"
        " FROM tmp_warning_keys k"
        " JOIN warnings w ON w.rule = k.rule AND w.id_number = k.id_number AND w.month <= :month"
        " LEFT JOIN warning_firings f ON f.warning_id = w.id AND f.month = :month"), {"month": month})
    latest: dict[tuple[str, str], dict] = {}
    for r in rows.mappings():
        key = (r["rule"], r["id_number"])
        if key not in latest or r["month"] > latest[key]["month"]:
            latest[key] = dict(r)
    conn.exec_driver_sql("DROP TABLE tmp_warning_keys")
    return latest


def _update_from_temp(conn: Connection, target: str, rows: list[tuple], *, now: datetime | None = None,
                      month: str | None = None) -> None:
    """Set-based update of `warnings` (by id) or `warning_firings` (by id and `month`) from rows
    (id, level, value, evidence[, last_month, fired_months, last_run_id])."""
    if not rows:
        return
    columns = {"id": "BIGINT PRIMARY KEY", "level": "TEXT", "value": "TEXT", "evidence": _json_type(conn)}
    if target == "warnings":
        columns |= {"last_month": "TEXT", "fired_months": "INTEGER", "last_run_id": "INTEGER"}
    _load_temp(conn, "tmp_warning_updates", columns, rows)
    sets = ", ".join(f"{c} = u.{c}" for c in columns if c != "id")
    if target == "warnings":
        stmt = text(f"UPDATE warnings SET {sets}, updated_at = :now FROM tmp_warning_updates u"
                    " WHERE warnings.id = u.id")
        conn.execute(stmt.bindparams(bindparam("now", type_=warnings.c.updated_at.type)), {"now": now})
    else:
        conn.execute(text(f"UPDATE warning_firings SET {sets} FROM tmp_warning_updates u"
                          " WHERE warning_firings.warning_id = u.id AND warning_firings.month = :month"),
                     {"month": month})
    conn.exec_driver_sql("DROP TABLE tmp_warning_updates")


_NEW_COLUMNS = ("id", "rule", "level", "need", "side", "id_number", "person_id", "household_id",
                "household_no", "region_code", "value", "evidence")


def _insert_new(conn: Connection, rows: list[tuple], *, month: str, run_id: int, now: datetime) -> None:
    """New warnings (rows in _NEW_COLUMNS order, ids reserved) and their first firing."""
    types = dict.fromkeys(_NEW_COLUMNS, "TEXT") | {
        "id": "BIGINT PRIMARY KEY", "person_id": "INTEGER", "household_id": "INTEGER",
        "evidence": _json_type(conn)}
    _load_temp(conn, "tmp_new_warnings", types, rows)
    cols = ", ".join(_NEW_COLUMNS)
    stmt = text(f"INSERT INTO warnings ({cols}, month, last_month, status, first_run_id, last_run_id,"
                f" fired_months, created_at, updated_at) SELECT {cols}, :month, :month, 'new', :run, :run, 1,"
                " :now, :now FROM tmp_new_warnings")
    conn.execute(stmt.bindparams(bindparam("now", type_=warnings.c.created_at.type)),
                 {"month": month, "run": run_id, "now": now})
    conn.execute(text("INSERT INTO warning_firings (warning_id, month, run_id, level, value, evidence)"
                      " SELECT id, :month, :run, level, value, evidence FROM tmp_new_warnings"),
                 {"month": month, "run": run_id})
    conn.exec_driver_sql("DROP TABLE tmp_new_warnings")


def _insert_firings(conn: Connection, rows: list[tuple], *, month: str, run_id: int) -> None:
    """Firings of `month` for existing warnings: rows (warning_id, level, value, evidence)."""
    if not rows:
        return
    _load_temp(conn, "tmp_new_firings", {"warning_id": "BIGINT PRIMARY KEY", "level": "TEXT", "value": "TEXT",
                                         "evidence": _json_type(conn)}, rows)
    conn.execute(text("INSERT INTO warning_firings (warning_id, month, run_id, level, value, evidence)"
                      " SELECT warning_id, :month, :run, level, value, evidence FROM tmp_new_firings"),
                 {"month": month, "run": run_id})
    conn.exec_driver_sql("DROP TABLE tmp_new_firings")


def record_warnings(engine_or_conn: Engine | Connection, *, run_id: int, month: str, candidates: pa.Table,
                    suppression: dict[str, int]) -> dict[str, int]:
    """Record one month's candidates in one transaction; returns counts {created, updated, unchanged}.
    `suppression[rule]`: months after the last firing within which the rule firing again updates the
    existing warning instead of raising a new one."""
    check_month(month)
    cands = _candidates(candidates)
    unknown = sorted({rule for rule, _ in cands} - suppression.keys())
    if unknown:
        raise WarningInputError("suppression", f"no suppression window for rule(s) {', '.join(unknown)}")
    now = datetime.now(UTC)
    m = month_index(month)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with _connection(engine_or_conn) as conn:
        lock_for_import(conn, "warnings")  # concurrent runs would raise the same new warnings twice
        latest = _existing(conn, list(cands), month)
        new_rows: list[dict] = []
        warning_updates: list[tuple] = []
        firing_updates: list[tuple] = []
        new_firings: list[tuple] = []
        for key, c in cands.items():
            w = latest.get(key)
            # a closed warning raised this very month is this month's warning: re-running changes nothing
            fresh = (w is None or (w["status"] == "closed" and w["month"] < month)
                     or m - month_index(w["last_month"]) > suppression[c["rule"]])
            if fresh:
                new_rows.append(c)
                continue
            fired = w["f_level"] is not None
            level = max(w["level"], c["level"], key=LEVEL_RANK.__getitem__)
            # value and evidence are the latest month's: re-running an older month does not rewind them
            value, evidence = ((c["value"], c["evidence"]) if month >= w["last_month"]
                               else (w["value"], w["evidence"]))
            warning_updates.append((w["id"], level, value, evidence, max(w["last_month"], month),
                                    w["fired_months"] + (0 if fired else 1), run_id))
            firing = (w["id"], c["level"], c["value"], c["evidence"])
            if not fired:
                new_firings.append(firing)
                counts["updated"] += 1
            elif (w["f_level"], w["f_value"], w["f_evidence"]) != firing[1:]:
                firing_updates.append(firing)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if new_rows:
            first = reserve_ids(conn, warnings, len(new_rows))
            rows = [(first + i, *(c[k] for k in _NEW_COLUMNS[1:])) for i, c in enumerate(new_rows)]
            _insert_new(conn, rows, month=month, run_id=run_id, now=now)
            counts["created"] = len(new_rows)
        _update_from_temp(conn, "warnings", warning_updates, now=now)
        _update_from_temp(conn, "warning_firings", firing_updates, month=month)
        _insert_firings(conn, new_firings, month=month, run_id=run_id)
    return counts


# --- listing ------------------------------------------------------------------------------------

def list_warnings(engine: Engine, *, month: str, scope_prefix: str = "", rule: str | None = None,
                  level: str | None = None, status: str | None = None, page: int = 1,
                  page_size: int | None = 50) -> dict:
    """Warnings that fired in `month` within the region prefix, most severe first; `level` and the
    row's level are that month's. page_size None: every row."""
    check_month(month)
    w, f = warnings, warning_firings
    conds = [f.c.month == month]
    if scope_prefix:
        conds.append(w.c.region_code.startswith(scope_prefix, autoescape=True))
    if rule:
        conds.append(w.c.rule == rule)
    if level:
        conds.append(f.c.level == level)
    if status:
        conds.append(w.c.status == status)
    base = f.join(w, w.c.id == f.c.warning_id)
    severity = case({lv: rank for lv, rank in LEVEL_RANK.items()}, value=f.c.level, else_=-1)
    query = (select(w.c.id.label("warning_id"), w.c.rule, f.c.month, f.c.level, w.c.id_number,
                    w.c.person_id, w.c.household_id, w.c.household_no, w.c.region_code, w.c.status,
                    w.c.need, w.c.side, f.c.value, f.c.evidence, w.c.month.label("raised_month"),
                    w.c.fired_months)
             .select_from(base).where(*conds).order_by(severity.desc(), w.c.id))
    if page_size is not None:
        query = query.limit(page_size).offset((max(page, 1) - 1) * page_size)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(base).where(*conds)).scalar_one()
        items = [dict(r) for r in conn.execute(query).mappings()]
    return {"total": total, "page": page, "page_size": page_size, "items": items}
