"""Regions table with a materialised path, so a subtree is one indexed prefix scan."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Boolean, Column, Connection, Index, String, Table, func, select

from safetynet.db import metadata
from safetynet.regions.model import Level, Region

regions = Table(
    "regions",
    metadata,
    Column("code", String(14), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", String(10), nullable=False),
    Column("parent_code", String(14), nullable=True, index=True),
    # "37/3704/370402/370402001/370402001001/": LIKE 'prefix%' uses the index
    # (String collation "C" on PostgreSQL so text_pattern matching needs no special opclass)
    Column("path", String(80).with_variant(String(80, collation="C"), "postgresql"),
           nullable=False),
    Column("urban", Boolean, nullable=True),
    Index("ix_regions_path", "path"),
)

_BATCH = 20_000


def _row(r: Region) -> dict:
    return {"code": r.code, "name": r.name, "level": r.level.value, "parent_code": r.parent_code,
            "path": r.path, "urban": r.urban}


def _from_row(row) -> Region:  # noqa: ANN001
    return Region(row.code, row.name, Level(row.level), row.parent_code, row.path, row.urban)


def existing_codes(conn: Connection, codes: Iterable[str]) -> set[str]:
    codes = list(set(codes))
    found: set[str] = set()
    for i in range(0, len(codes), 5000):
        chunk = codes[i : i + 5000]
        found.update(conn.execute(select(regions.c.code).where(regions.c.code.in_(chunk))).scalars())
    return found


def insert_missing(conn: Connection, items: list[Region]) -> int:
    """Insert regions not yet stored; returns how many were new. Idempotent."""
    have = existing_codes(conn, (r.code for r in items))
    new = [_row(r) for r in items if r.code not in have]
    for i in range(0, len(new), _BATCH):
        conn.execute(regions.insert(), new[i : i + _BATCH])
    return len(new)


def get(conn: Connection, code: str) -> Region | None:
    row = conn.execute(select(regions).where(regions.c.code == code)).first()
    return _from_row(row) if row else None


def children(conn: Connection, code: str) -> list[Region]:
    rows = conn.execute(select(regions).where(regions.c.parent_code == code).order_by(regions.c.code))
    return [_from_row(r) for r in rows]


def subtree_query(path: str, level: Level | None = None):  # noqa: ANN201
    """Paths hold digits and "/" only, all below "~", so the subtree is the index range
    [path, path + "~"): a plain B-tree range scan on SQLite and PostgreSQL (C collation)."""
    q = select(regions).where(regions.c.path >= path, regions.c.path < path + "~")
    if level is not None:
        q = q.where(regions.c.level == level.value)
    return q.order_by(regions.c.path)


def subtree(conn: Connection, path: str, level: Level | None = None) -> list[Region]:
    return [_from_row(r) for r in conn.execute(subtree_query(path, level))]


def count_by_level(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(regions.c.level, func.count()).group_by(regions.c.level))
    return {level: n for level, n in rows}
