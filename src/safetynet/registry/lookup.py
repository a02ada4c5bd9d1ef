"""Small registry look-ups other capabilities need (read-only)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from safetynet.errors import NotFoundError
from safetynet.registry import store


def household_id(engine: Engine, *, household_no: str) -> int:
    """The internal id of a household by its register number; NotFoundError if unknown."""
    h = store.households
    with engine.connect() as conn:
        found = conn.execute(select(h.c.id).where(h.c.household_no == household_no)).scalar()
    if found is None:
        raise NotFoundError(f"household {household_no} is not in the register (户号不存在)")
    return int(found)

