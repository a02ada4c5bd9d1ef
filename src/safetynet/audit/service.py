"""Recording and searching the audit log.

`record` writes one row: who (the signed-in user, or a username when sign-in failed), did
what (`action`), to which object, which fields (names only — never the values), why
(`purpose`) and with what result. Pass `conn` to write inside the caller's transaction so
the audit row and the change it describes commit or roll back together. Every row is the
next link of a hash chain (audit/chain.py): `verify` recomputes it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select

from safetynet.audit import chain, model
from safetynet.audit.store import audit_log
from safetynet.errors import SafetynetError

ACTIONS = ("read", "unmask", "write", "export", "login", "logout", "denied")
RESULTS = ("ok", "denied", "error")


class Actor(Protocol):
    username: str
    role: str
    region_code: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor_columns(actor: Actor | str | None) -> dict[str, Any]:
    if actor is None:
        return {"actor": "-", "actor_role": None, "actor_region": None}
    if isinstance(actor, str):
        return {"actor": actor[:32] or "-", "actor_role": None, "actor_region": None}
    return {"actor": actor.username, "actor_role": str(actor.role), "actor_region": actor.region_code}


def record(engine: Engine | None, *, actor: Actor | str | None, action: str, object_type: str,
           object_id: str | None = None, fields: list[str] | None = None, purpose: str | None = None,
           result: str = "ok", detail: str | None = None, conn: Connection | None = None,
           at: dt.datetime | None = None) -> None:
    """Append one audit row (see the module docstring). `engine` may be None when `conn` is given."""
    if action not in ACTIONS:
        raise SafetynetError(f"audit action must be one of {', '.join(ACTIONS)}, got {action!r}")
    if result not in RESULTS:
        raise SafetynetError(f"audit result must be one of {', '.join(RESULTS)}, got {result!r}")
    row = _actor_columns(actor) | {
        "at": model.utc(at or _now()), "action": action, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id)[:64],
        "fields": json.dumps(sorted(set(fields)), ensure_ascii=False) if fields else None,
        "purpose": purpose[:500] if purpose else None, "result": result,
        "detail": detail[:200] if detail else None,
    }
    if conn is not None:
        chain.append(conn, row)
        return
    if engine is None:
        raise SafetynetError("audit.record needs an engine or a connection")
    with engine.begin() as c:
        chain.append(c, row)


def verify(engine: Engine, *, progress=None) -> model.Report:  # noqa: ANN001
    """Recompute the hash chain of the whole log: OK with the row count, or its first break."""
    return chain.verify(engine, progress=progress)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _as_dict(row) -> dict:  # noqa: ANN001
    return {
        "id": row.id, "at": _utc(row.at).isoformat(), "actor": row.actor, "actor_role": row.actor_role,
        "actor_region": row.actor_region, "action": row.action, "object_type": row.object_type,
        "object_id": row.object_id, "fields": json.loads(row.fields) if row.fields else [],
        "purpose": row.purpose, "result": row.result, "detail": row.detail,
    }


def search(engine: Engine, *, scope_prefix: str | None = None, actor: str | None = None,
           object_type: str | None = None, object_id: str | None = None, action: str | None = None,
           from_: dt.datetime | None = None, to: dt.datetime | None = None, page: int = 1,
           page_size: int = 20) -> dict:
    """Newest first. `scope_prefix` keeps rows whose actor belongs to that region subtree
    (an auditor of a county sees what the county's staff did); None means everything."""
    q = select(audit_log)
    if scope_prefix:
        in_scope = audit_log.c.actor_region.like(scope_prefix + "%")
        if len(scope_prefix) <= 2:  # a province also sees sign-in attempts of unknown usernames
            in_scope = in_scope | audit_log.c.actor_region.is_(None)
        q = q.where(in_scope)
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if object_type:
        q = q.where(audit_log.c.object_type == object_type)
    if object_id:
        q = q.where(audit_log.c.object_id == object_id)
    if action:
        q = q.where(audit_log.c.action == action)
    if from_ is not None:
        q = q.where(audit_log.c.at >= from_)
    if to is not None:
        q = q.where(audit_log.c.at < to)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                            .limit(page_size).offset((page - 1) * page_size)).all()
    return {"items": [_as_dict(r) for r in rows], "total": total, "page": page, "page_size": page_size}
