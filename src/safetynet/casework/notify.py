"""Notifications inside the platform (the header badge and the list), and the plugin point for other
channels (SMS, WeChat-style messages): a channel is any object with a `name` and `send(message)`,
registered with `register_channel` or advertised by an installed package under the entry-point group
`safetynet.notification_channels` and switched on by name in SAFETYNET_NOTIFY_CHANNELS (comma-separated).
Nothing is sent outside the platform by this project itself.

Whom to tell: a queue's users when tasks arrive (one summary per user per dispatch, not one per task),
the township's caseworkers when feedback is in or a worker hands a task back, the worker when the
township returns or closes their task, the new queue on escalation and reassignment.

In-platform notifications are rows written in the action's own transaction. Outside channels are
called only after it has committed (`sent_after_commit` around the transaction): an action rolled
back tells no one outside, and a slow channel does not hold the action's locks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol

from sqlalchemy import Connection, insert, select

from safetynet.auth.model import Role
from safetynet.auth.store import users
from safetynet.casework.access import region_at, roles_worked
from safetynet.casework.model import ACTION_LABELS, Action, Queue, Status
from safetynet.casework.store import notifications
from safetynet.regions.model import short_code

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "safetynet.notification_channels"


@dataclass(frozen=True)
class Message:
    username: str
    kind: str
    title_zh: str
    title_en: str
    link: str | None
    task_id: int | None


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


_registered: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    _registered[channel.name] = channel


def unregister_channel(name: str) -> None:
    _registered.pop(name, None)


def active_channels() -> list[Channel]:
    """Registered channels, plus installed ones named in SAFETYNET_NOTIFY_CHANNELS."""
    wanted = [n.strip() for n in os.environ.get("SAFETYNET_NOTIFY_CHANNELS", "").split(",") if n.strip()]
    found = dict(_registered)
    if wanted:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in wanted and ep.name not in found:
                found[ep.name] = ep.load()()
        missing = set(wanted) - set(found)
        if missing:
            log.warning(
                "notification channel(s) %s named in SAFETYNET_NOTIFY_CHANNELS are not installed",
                ", ".join(sorted(missing)),
            )
    return list(found.values())


def _deliver(conn: Connection, messages: list[Message], at) -> int:  # noqa: ANN001
    if not messages:
        return 0
    conn.execute(
        insert(notifications),
        [
            {
                "username": m.username,
                "kind": m.kind,
                "task_id": m.task_id,
                "title_zh": m.title_zh,
                "title_en": m.title_en,
                "link": m.link,
                "created_at": at,
                "read_at": None,
            }
            for m in messages
        ],
    )
    outbox = _outbox.get()
    if outbox is None:  # not inside `sent_after_commit`: the caller's transaction is its own affair
        _send(messages)
    else:
        outbox.extend(messages)
    return len(messages)


_outbox: ContextVar[list[Message] | None] = ContextVar("safetynet_notify_outbox", default=None)


@contextmanager
def sent_after_commit() -> Iterator[None]:
    """Hold the outside channels' messages of the block until it ends without an error. Put it
    around the transaction (`with notify.sent_after_commit(), engine.begin() as conn:`), so the
    transaction has committed when they go. Nested inside another such block (a bulk upload running
    each task's own use case inside its one transaction), the messages wait for the outer block."""
    outer = _outbox.get()
    token = _outbox.set([])
    try:
        yield
        pending = _outbox.get() or []
    finally:
        _outbox.reset(token)
    if outer is not None:
        outer.extend(pending)
        return
    _send(pending)


def _send(messages: list[Message]) -> None:
    if not messages:
        return
    for channel in active_channels():
        for m in messages:
            try:
                channel.send(m)
            except Exception:  # a broken channel never loses the in-platform notification
                log.exception(
                    "notification channel %s failed for %s", getattr(channel, "name", channel), m.username
                )


class Recipients:
    """Who works which queue (`access.works_queue`), from one read of the active accounts: a dispatch
    touches thousands of queues, the accounts are a few thousand rows. Accounts are indexed by the
    roles they work and their region's short code, so a queue's workers are those under one of the
    prefixes of its region."""

    def __init__(self, conn: Connection, roles: Iterable[str] | None = None,
                 regions: Iterable[str] | None = None) -> None:
        self._by_role_prefix: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
        query = select(users.c.username, users.c.role, users.c.region_code, users.c.department).where(
            users.c.active.is_(True)
        )
        if roles is not None:
            query = query.where(users.c.role.in_(list(roles)))
        if regions is not None:
            query = query.where(users.c.region_code.in_(list(regions)))
        for r in conn.execute(query):
            for role in roles_worked(r.role):
                key = (role, short_code(r.region_code))
                self._by_role_prefix.setdefault(key, []).append((r.username, r.department))

    def of(self, queue: Queue) -> list[str]:
        prefixes = {queue.region[:n] for n in (2, 4, 6, 9, 12, 14) if n <= len(queue.region)}
        return sorted(
            username
            for prefix in prefixes
            for username, department in self._by_role_prefix.get((queue.role, prefix), [])
            if queue.department is None or department == queue.department
        )


def recipients(conn: Connection, queue: Queue) -> list[str]:
    """Active accounts that work one queue (reads only the accounts of the roles that work it)."""
    roles = [role.value for role in Role if queue.role in roles_worked(role.value)]
    # the accounts bound to the queue's region or one above it (an overdue sweep asks per task)
    regions = {queue.region} | {queue.region[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12)}
    return Recipients(conn, roles, regions).of(queue)


def new_tasks(conn: Connection, queues: Mapping[tuple[str, str, str | None], int], *, month: str, at) -> int:  # noqa: ANN001
    """One summary per user of each queue that received tasks."""
    index = Recipients(conn)
    per_user: dict[str, int] = {}
    for (role, region, department), n in queues.items():
        for username in index.of(Queue(role, region, department)):
            per_user[username] = per_user.get(username, 0) + n
    return _deliver(
        conn,
        [
            Message(
                u,
                "new_tasks",
                f"{month} 监测预警新增 {n} 条待办任务",
                f"{n} new task(s) from the {month} warnings",
                "/tasks",
                None,
            )
            for u, n in sorted(per_user.items())
        ],
        at,
    )


def _township_staff(conn: Connection, region_code: str) -> list[str]:
    return recipients(conn, Queue(Role.township_caseworker.value, region_at(region_code, "township")))


def after_transition(
    conn: Connection,
    row,
    *,
    action: Action,
    to: Status,
    actor: str,  # noqa: ANN001
    values: dict,
    at,
) -> int:  # noqa: ANN001
    """Tell whoever must act next."""
    link = f"/tasks/{row.id}"
    label = ACTION_LABELS[action]
    who: Iterable[str] = ()
    if to is Status.feedback_given or (to is Status.returned and row.status != Status.feedback_given.value):
        who = _township_staff(conn, row.region_code)
    elif to in (Status.returned, Status.closed):
        who = [row.assignee] if row.assignee else ()
    elif to in (Status.escalated, Status.assigned) and action in (Action.escalate, Action.reassign):
        who = (
            [values["assignee"]]
            if values.get("assignee")
            else recipients(
                conn,
                Queue(values["queue_role"], values["queue_region"], values.get("department", row.department)),
            )
        )
    messages = [
        Message(
            u, action.value, f"任务 #{row.id}：{label['zh']}", f"Task #{row.id}: {label['en']}", link, row.id
        )
        for u in sorted(set(who))
        if u and u != actor
    ]
    return _deliver(conn, messages, at)
