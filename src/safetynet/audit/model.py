"""The audit log's hash chain as pure functions: a row's canonical content, its HMAC, and the
check of a whole chain (no database here; audit/chain.py reads and writes).

Each row's `hash` is HMAC-SHA256 over the previous row's hash and the row's canonical content:
every column in a fixed order, the time in UTC. Whoever can write to the database but does not
hold the server's key cannot make a row that fits: an altered row no longer matches its hash, a
row inserted by hand has no valid hash, a removed row leaves the next one pointing at a hash no
row has, and the head (last id and hash, itself MACed) tells when the newest rows are gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64  # the `prev_hash` of the first row
# The content a row's hash covers, in this order (every column but the chain's own two).
CONTENT = ("id", "at", "actor", "actor_role", "actor_region", "action", "object_type", "object_id",
           "fields", "purpose", "result", "detail")
_KEY_CHECK_TEXT = b"safetynet audit chain key check"


def utc(at: dt.datetime) -> dt.datetime:
    """`at` in UTC (a naive time is taken as UTC: SQLite hands back what was stored, in UTC)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def canonical(row: Any) -> bytes:
    """The row's content as bytes: a compact JSON array of CONTENT, time as UTC ISO with
    microseconds. `row` is a mapping or has the columns as attributes."""
    get = row.__getitem__ if isinstance(row, dict) else row._mapping.__getitem__
    values = [get(c) for c in CONTENT]
    values[1] = utc(values[1]).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values[0] = int(values[0])
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def row_hash(key: bytes, prev_hash: str, row: Any) -> str:
    return _mac(key, prev_hash.encode() + b"\n" + canonical(row))


def head_mac(key: bytes, last_id: int, last_hash: str) -> str:
    return _mac(key, f"head\n{int(last_id)}\n{last_hash}".encode())


def key_check(key: bytes) -> str:
    return _mac(key, _KEY_CHECK_TEXT)


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold. `problem`: altered, inserted, missing, head, key."""

    problem: str
    row_id: int | None
    message: str
    message_zh: str


@dataclass(frozen=True)
class Report:
    rows: int  # rows checked and found in order (before the break, if any)
    last_id: int | None  # the last row found in order
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict:
        out: dict = {"ok": self.ok, "rows": self.rows, "last_id": self.last_id}
        if self.broken is not None:
            b = self.broken
            out |= {"problem": b.problem, "row_id": b.row_id, "message": b.message,
                    "message_zh": b.message_zh}
        return out


def _misfit(row: Any, *, linked: bool, after: int | None) -> Break:
    """A row whose hash does not fit its content: altered if the chain goes on from its hash
    (the row was written by audit.record and changed since), inserted otherwise."""
    if linked:
        return Break("altered", row.id, f"row {row.id} was altered after it was written: its content no "
                     "longer matches its hash", f"第 {row.id} 条记录写入后被篡改：内容与其哈希不符")
    where = f"after row {after}" if after is not None else "at the start"
    return Break("inserted", row.id, f"row {row.id} ({where}) was inserted outside audit.record: its hash "
                 "fits no chain", f"第 {row.id} 条记录非经审计接口写入（伪造插入）：哈希无效")


def check_chain(rows: Iterable[Any], *, head: Any | None, key: bytes) -> Report:
    """Walk `rows` (audit_log rows in id order) and the chain head; the first break, if any."""
    if head is None:
        return Report(0, None, Break("head", None, "the audit chain has no head: run `safetynet db-upgrade` "
                                     "(migration 0017)", "审计链缺少链头：请运行 safetynet db-upgrade"))
    if not hmac.compare_digest(head.key_check, key_check(key)):
        return Report(0, None, Break(
            "key", None, "the audit chain was made with another key: the server's secret key "
            "(SAFETYNET_SECRET_KEY or secret.key) is not the one in use when the rows were written; "
            "restore that key to verify",
            "审计链由另一密钥生成：当前服务器密钥与写入时不同，请恢复原密钥后再校验"))
    prev_hash, prev_id, n = GENESIS, None, 0
    pending = None  # a row whose hash does not fit: the next row tells altered from inserted
    for row in rows:
        if pending is not None:
            return Report(n, prev_id, _misfit(pending, linked=row.prev_hash == pending.hash
                                              and pending.prev_hash == prev_hash, after=prev_id))
        if row.hash is None:
            return Report(n, prev_id, _misfit(row, linked=False, after=prev_id))
        if not hmac.compare_digest(row_hash(key, row.prev_hash or "", row), row.hash):
            pending = row
            continue
        if row.prev_hash != prev_hash:
            if prev_id is None:
                msg = (f"rows before row {row.id} are missing (the log's first rows were removed)",
                       f"第 {row.id} 条之前的记录缺失（最早的记录被删除）")
            else:
                msg = (f"rows are missing after row {prev_id}: row {row.id} was chained to a row that is no "
                       "longer there", f"第 {prev_id} 条之后有记录缺失（第 {row.id} 条所接的记录已不存在）")
            return Report(n, prev_id, Break("missing", row.id, *msg))
        prev_hash, prev_id, n = row.hash, row.id, n + 1
    if pending is not None:
        return Report(n, prev_id, _misfit(pending, linked=head.last_id == pending.id
                                          and head.last_hash == pending.hash, after=prev_id))
    if not hmac.compare_digest(head.head_mac, head_mac(key, head.last_id, head.last_hash)):
        return Report(n, prev_id, Break("head", None, "the chain head was altered (its MAC does not fit)",
                                        "审计链头被篡改"))
    if head.last_hash != prev_hash or int(head.last_id) != (prev_id or 0):
        if int(head.last_id) > (prev_id or 0):
            return Report(n, prev_id, Break(
                "missing", prev_id, f"rows after row {prev_id or 0} are missing: the head records row "
                f"{head.last_id} as the last", f"第 {prev_id or 0} 条之后的记录缺失：链头记录的最后一条为第 "
                f"{head.last_id} 条"))
        return Report(n, prev_id, Break("head", prev_id, f"the head records row {head.last_id}, the chain "
                                        f"ends at row {prev_id}", f"链头记录第 {head.last_id} 条，"
                                        f"而链止于第 {prev_id} 条"))
    return Report(n, prev_id)
