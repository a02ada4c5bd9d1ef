"""Synthetic field work for the demo province: after a month's dispatch, the workers of each queue act
on part of their tasks — accept, verify, report back — and the township closes most of what came back,
so the closed-loop pages and figures have a year of history to show. Every step goes through the real
use cases (casework.service / casework.feedback), as the synthetic users `synth:<role>` of each queue.

The shares below are [assumption]s, chosen to look plausible (most checks done within the deadline,
some late, some never): the knobs to turn for a different picture."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Engine, select

from safetynet.auth.model import ROLE_CAPABILITIES, CurrentUser, Role
from safetynet.casework import feedback, notify, service
from safetynet.casework.access import region_at
from safetynet.casework.model import Queue
from safetynet.casework.store import tasks
from safetynet.monitoring.store import warnings

#: of a month's tasks: share acted on at all, and of those the share closed by the township [assumption]
ACTED_SHARE = 0.85
CLOSED_SHARE = 0.9
FIELD_OUTCOMES = (("confirmed_need", 0.6), ("no_need", 0.25), ("wrong_data", 0.1), ("not_found", 0.05))
ASSISTED_SHARE = 0.7
#: need → the kind of aid its department gives, and a typical amount in fen [assumption]
AID_BY_NEED = {
    "medical": ("medical_assistance", 300_000),
    "education": ("education_assistance", 150_000),
    "employment": ("employment_assistance", 80_000),
    "housing": ("housing_assistance", 1_000_000),
    "disaster": ("disaster_relief", 200_000),
}
NOTES = {
    "confirmed_need": "入户核实：情况属实",
    "no_need": "入户核实：暂无困难",
    "wrong_data": "部门数据有误，已核对",
    "not_found": "多次上门未见本人",
}


def _draw(task_id: int, salt: str) -> float:
    """A deterministic number in [0, 1) per task and purpose: the same demo every time."""
    digest = hashlib.sha256(f"{task_id}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(task_id: int, salt: str, choices: tuple[tuple[str, float], ...]) -> str:
    x, acc = _draw(task_id, salt), 0.0
    for value, share in choices:
        acc += share
        if x < acc:
            return value
    return choices[-1][0]


def _worker(row) -> CurrentUser:  # noqa: ANN001
    role = Role(row.queue_role)
    return CurrentUser(
        username=f"synth:{role.value}",
        display_name=f"模拟·{role.value}",
        role=role.value,
        region_code=row.queue_region,
        region_name="",
        department=row.department,
        capabilities=ROLE_CAPABILITIES[role],
    )


def _township_manager(row) -> CurrentUser:  # noqa: ANN001
    return CurrentUser(
        username="synth:township_caseworker",
        display_name="模拟·乡镇经办人",
        role=Role.township_caseworker.value,
        region_code=region_at(row.region_code, "township"),
        region_name="",
        department=None,
        capabilities=ROLE_CAPABILITIES[Role.township_caseworker],
    )


def simulate_month(engine: Engine, *, month: str, dispatched_at: dt.datetime, last: bool = False) -> dict:
    """Act on the tasks of `month`'s warnings over the days after `dispatched_at`. The latest month
    (`last`) is left half done, as a month in progress, and its tasks in the queues of real accounts
    (the demo users) are left to them."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(tasks)
            .join(warnings, warnings.c.id == tasks.c.warning_id)
            .where(warnings.c.month == month, tasks.c.status.in_(["assigned", "pushed"]))
            .order_by(tasks.c.id)
        ).all()
    acted_share, closed_share = (0.5, 0.5) if last else (ACTED_SHARE, CLOSED_SHARE)
    counts = {"tasks": len(rows), "accepted": 0, "feedback": 0, "closed": 0}
    staffed: dict[tuple, bool] = {}
    for row in rows:
        if _draw(row.id, "act") >= acted_share:
            continue
        if last:  # the month in progress: a queue a real account works is left to that account
            queue = (row.queue_role, row.queue_region, row.department)
            if queue not in staffed:
                with engine.connect() as conn:
                    staffed[queue] = bool(notify.recipients(conn, Queue(*queue)))
            if staffed[queue]:
                continue
        worker = _worker(row)
        # within the first working week, a few late
        at = dispatched_at + dt.timedelta(hours=4 + int(_draw(row.id, "when") * 24 * 9))
        service.act(engine, task_id=row.id, action="accept", user=worker, now=at)
        service.act(engine, task_id=row.id, action="start", user=worker, now=at + dt.timedelta(hours=1))
        counts["accepted"] += 1
        report = at + dt.timedelta(hours=26)
        if row.task_type == "field_check":
            outcome = _pick(row.id, "outcome", FIELD_OUTCOMES)
            feedback.give(
                engine, task_id=row.id, user=worker, outcome=outcome, notes=NOTES[outcome], now=report
            )
        elif (
            row.household_id is not None and row.need in AID_BY_NEED and _draw(row.id, "aid") < ASSISTED_SHARE
        ):
            kind, fen = AID_BY_NEED[row.need]
            amount = fen // 2 + int(_draw(row.id, "amount") * fen) // 100 * 100
            feedback.give(
                engine,
                task_id=row.id,
                user=worker,
                outcome="assisted",
                now=report,
                assistance=feedback.Assistance(kind=kind, given_on=report.date(), amount_fen=amount),
            )
        else:
            feedback.give(
                engine,
                task_id=row.id,
                user=worker,
                outcome="refused",
                now=report,
                refusal_reason="不符合本部门救助条件",
            )
        counts["feedback"] += 1
        if _draw(row.id, "close") < closed_share:
            service.act(
                engine,
                task_id=row.id,
                action="close",
                user=_township_manager(row),
                now=report + dt.timedelta(hours=20),
            )
            counts["closed"] += 1
    return counts
