"""One household, one assistance chain (一户一条救助帮扶链): everything the platform knows happened to a
household, in date order — its tier changes (with the monthly benefit), the warnings raised on its
members, every task and step taken on them, the feedback given, and every assistance recorded (by
civil affairs, a department or a charity). Exported to Excel for the case file.

Each reader sees in the chain what they see elsewhere, no more (`Reader`): warnings only with
warnings.read and, for a department liaison, only the needs pushed to their department; tasks, their
steps and field notes only where the task list would show them (`views.scope_conditions`); benefit
and assistance amounts only with registry.sensitive, as on the household page (a department or
charity still sees the amounts of the aid it recorded itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, false, select

from safetynet import identity, spreadsheet
from safetynet.auth.model import CurrentUser, Role
from safetynet.casework.model import (
    ACTION_LABELS,
    ASSISTANCE_KINDS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Action,
    Status,
)
from safetynet.casework.store import assistance_records, task_events, task_feedback, tasks
from safetynet.casework.views import scope_conditions
from safetynet.monitoring.catalogue import POPULATION_LABELS as TIER_LABELS
from safetynet.monitoring.store import warnings
from safetynet.registry.store import person_tiers, persons
from safetynet.workdays.model import as_utc

KINDS = {
    "tier": {"zh": "认定层级", "en": "Tier"},
    "warning": {"zh": "监测预警", "en": "Warning"},
    "task": {"zh": "任务处置", "en": "Task"},
    "feedback": {"zh": "核查反馈", "en": "Feedback"},
    "assistance": {"zh": "救助帮扶", "en": "Assistance"},
}


def _at(value: dt.date | dt.datetime) -> str:
    return (as_utc(value) if isinstance(value, dt.datetime) else value).isoformat()


def _sort_key(value: dt.date | dt.datetime) -> str:
    """Dates sort as the start of their day, UTC: a date and a timestamp of the same day keep that order."""
    if isinstance(value, dt.datetime):
        return as_utc(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return value.isoformat() + "T00:00:00"


def _after_month(month: str) -> dt.date:
    """A warning about a month is known once the month is over: it stands in the chain on the next
    month's first day, before the tasks its run dispatched (whenever the run itself happened)."""
    year, m = int(month[:4]), int(month[5:7])
    return dt.date(year + m // 12, m % 12 + 1, 1)


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else f"{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Reader:
    """What one reader may see of a chain (built by `reader_for` from the signed-in user; `Reader()`
    sees everything: the operator's view)."""

    warnings: bool = True
    #: None: warnings of every need; else only these (a department liaison)
    warning_needs: tuple[str, ...] | None = None
    #: SQL conditions on `tasks` selecting the tasks the reader may see; None: no tasks at all
    task_conditions: tuple | None = ()
    amounts: bool = True
    #: (source_kind, source) or recorded_by: whose own assistance amounts are shown without `amounts`
    own_source: tuple[str, str] | None = None
    username: str | None = None

    def fields(self) -> list[str]:
        """What a read shows, for its audit row."""
        return ["assistance", "tiers"] + ["warnings"] * self.warnings + ["tasks"] * (
            self.task_conditions is not None) + ["amounts"] * self.amounts


def reader_for(engine: Engine, user: CurrentUser) -> Reader:
    """The chain as `user` sees the same things elsewhere in the platform."""
    from safetynet.casework.service import department_needs

    liaison = user.role == Role.department_liaison.value
    own = ("department", user.department) if liaison and user.department else None
    return Reader(
        warnings=user.can("warnings.read"),
        warning_needs=tuple(department_needs(engine, user.department)) if liaison else None,
        task_conditions=tuple(scope_conditions(user)) if user.can("tasks.read") else None,
        amounts=user.can("registry.sensitive"),
        own_source=own,
        username=user.username,
    )


def _shows_amount(reader: Reader, row) -> bool:  # noqa: ANN001
    if reader.amounts:
        return True
    if reader.username is not None and row.recorded_by == reader.username:
        return True
    return reader.own_source is not None and (row.source_kind, row.source) == reader.own_source


def household_chain(conn: Connection, *, household_id: int, reader: Reader) -> list[dict]:
    """The chain's entries as `reader` may see them, oldest first: {at, kind, title_zh, title_en,
    detail, refs}."""
    out: list[tuple[str, int, dict]] = []

    def add(at: dt.date | dt.datetime, order: int, kind: str, zh: str, en: str, **refs: object) -> None:
        out.append(
            (
                _sort_key(at),
                order,
                {
                    "at": _at(at),
                    "kind": kind,
                    "kind_label": KINDS[kind],
                    "title_zh": zh,
                    "title_en": en,
                    **refs,
                },
            )
        )

    # each member's tier with the monthly benefit it pays (the register's enrolments)
    member = select(persons.c.name).where(persons.c.id == person_tiers.c.person_id).scalar_subquery()
    for t in conn.execute(
        select(person_tiers, member.label("name")).where(person_tiers.c.household_id == household_id)
    ):
        who = identity.mask_name(t.name) if t.name else ""
        label = TIER_LABELS.get(t.tier, t.tier)
        pay = t.monthly_benefit_fen if reader.amounts else None
        add(
            t.since,
            0,
            "tier",
            f"{who} 认定为{label}" + (f"，每月 {_yuan(pay)} 元" if pay else ""),
            f"{who} tier {t.tier}" + (f", {_yuan(pay)} yuan a month" if pay else ""),
            tier=t.tier,
            amount_fen=pay,
        )
        if t.until:
            add(t.until, 0, "tier", f"{who} {label}终止", f"{who} tier {t.tier} ended", tier=t.tier)
    name = select(persons.c.name).where(persons.c.id == warnings.c.person_id).scalar_subquery()
    warning_rows = []
    if reader.warnings:
        needs = reader.warning_needs
        in_view = [warnings.c.need.in_(needs) if needs else false()] if needs is not None else []
        columns = (warnings.c.id, warnings.c.rule, warnings.c.level, warnings.c.month, warnings.c.status)
        warning_rows = conn.execute(
            select(*columns, name.label("name")).where(warnings.c.household_id == household_id, *in_view)
        ).all()
    for w in warning_rows:
        who = identity.mask_name(w.name) if w.name else ""
        add(
            _after_month(w.month),
            1,
            "warning",
            f"{w.month} 预警 {w.rule}（{w.level}）{who}",
            f"{w.month} warning {w.rule} ({w.level}) {who}",
            warning_id=w.id,
            level=w.level,
            status=w.status,
        )
    task_rows = {}
    if reader.task_conditions is not None:
        task_rows = {
            t.id: t
            for t in conn.execute(
                select(tasks.c.id, tasks.c.task_type, tasks.c.department, tasks.c.warning_id).where(
                    and_(tasks.c.household_id == household_id, *reader.task_conditions)
                )
            )
        }
    if task_rows:
        for e in conn.execute(
            select(task_events).where(task_events.c.task_id.in_(list(task_rows))).order_by(task_events.c.id)
        ):
            t = task_rows[e.task_id]
            if e.action == "create":
                continue
            label = ACTION_LABELS.get(Action(e.action), {"zh": e.action, "en": e.action})
            kind = TYPE_LABELS.get(t.task_type, {"zh": t.task_type, "en": t.task_type})
            to = STATUS_LABELS.get(Status(e.to_status), {"zh": e.to_status, "en": e.to_status})
            dep = f"（{t.department}）" if t.department else ""
            add(
                e.at,
                2,
                "task",
                f"{kind['zh']}{dep} #{t.id}：{label['zh']} → {to['zh']}",
                f"{kind['en']} #{t.id}: {label['en']} → {to['en']}",
                task_id=t.id,
                warning_id=t.warning_id,
                actor=e.actor,
                note=e.note,
            )
        for f in conn.execute(select(task_feedback).where(task_feedback.c.task_id.in_(list(task_rows)))):
            label = OUTCOME_LABELS.get(f.outcome, {"zh": f.outcome, "en": f.outcome})
            add(
                f.at,
                3,
                "feedback",
                f"任务 #{f.task_id} 反馈：{label['zh']}",
                f"task #{f.task_id} feedback: {label['en']}",
                task_id=f.task_id,
                outcome=f.outcome,
                note=f.notes or f.refusal_reason,
                actor=f.actor,
            )
    for a in conn.execute(
        select(assistance_records).where(assistance_records.c.household_id == household_id)
    ):
        kind = ASSISTANCE_KINDS.get(a.kind, {"zh": a.kind, "en": a.kind})
        amount = a.amount_fen if _shows_amount(reader, a) else None
        money = f" {_yuan(amount)} 元" if amount is not None else ""
        money_en = f" {_yuan(amount)} yuan" if amount is not None else ""
        add(
            a.given_on,
            4,
            "assistance",
            f"{kind['zh']}{money}（{a.source}）",
            f"{kind['en']}{money_en} ({a.source})",
            assistance_id=a.id,
            source_kind=a.source_kind,
            source=a.source,
            amount_fen=amount,
            task_id=a.task_id if a.task_id in task_rows else None,
            actor=a.recorded_by,
            note=a.notes,
        )
    out.sort(key=lambda x: (x[0], x[1]))
    return [entry for _, _, entry in out]


def _when(at: str) -> dt.date | dt.datetime:
    return dt.datetime.fromisoformat(at) if "T" in at else dt.date.fromisoformat(at)


def chain_workbook(entries: list[dict], *, household_no: str, lang: str = "zh") -> bytes:
    """The chain as an .xlsx file (one sheet, one row per entry): times in Beijing time, amounts in
    yuan as numbers, every text as text (spreadsheet)."""
    zh = lang == "zh"
    heads = (["时间", "类别", "事项", "金额（元）", "经办", "说明"] if zh
             else ["When", "Kind", "What", "Amount (yuan)", "By", "Note"])
    widths = [18, 10, 48, 12, 16, 40]
    columns = [spreadsheet.Column(head, width, money=col == 3)
               for col, (head, width) in enumerate(zip(heads, widths, strict=True))]
    rows = ([_when(e["at"]), e["kind_label"]["zh" if zh else "en"], e["title_zh"] if zh else e["title_en"],
             spreadsheet.yuan(e.get("amount_fen")), e.get("actor") or "", e.get("note") or ""]
            for e in entries)
    return spreadsheet.workbook_bytes([spreadsheet.Sheet(
        "救助帮扶链" if zh else "Assistance chain", columns, rows,
        preamble=[("户编号" if zh else "Household", household_no)])])
