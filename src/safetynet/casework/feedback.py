"""Feedback on a task and the assistance records it creates — the chain's own entries.

A field check reports what the worker found (need confirmed, no need, wrong data, person not found);
a department reports assistance given (kind, amount in fen, date) or a refusal with its reason. An
assistance given is recorded once, in `assistance_records`, whether it comes from a department's
feedback, from civil affairs or from a charity; the household's chain reads it from there."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from safetynet.audit.service import record as audit_record
from safetynet.auth.model import CurrentUser, Role
from safetynet.casework import notify
from safetynet.casework.model import (
    ASSISTANCE_KINDS,
    OUTCOMES,
    Action,
    DepartmentOutcome,
    FieldOutcome,
    SourceKind,
    TaskType,
)
from safetynet.casework.service import TaskActionError, _check_may, load_task, task_in_scope, transition
from safetynet.casework.store import assistance_records, task_feedback
from safetynet.config import get_settings
from safetynet.errors import NotFoundError
from safetynet.files import private_dir, write_private
from safetynet.registry import search
from safetynet.registry.store import households, is_member

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
#: outcomes that must say what was found
NOTES_REQUIRED = {FieldOutcome.no_need.value, FieldOutcome.wrong_data.value, FieldOutcome.not_found.value}


def _bad(field: str, message: str, message_zh: str) -> TaskActionError:
    return TaskActionError(422, "invalid", message, message_zh, field)


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Assistance:
    kind: str
    given_on: dt.date
    amount_fen: int | None = None
    person_id: int | None = None
    notes: str | None = None


def check_assistance(a: Assistance, *, source_kind: str, today: dt.date) -> None:
    kind = ASSISTANCE_KINDS.get(a.kind)
    if kind is None:
        raise _bad(
            "kind",
            f"assistance kind must be one of {', '.join(ASSISTANCE_KINDS)}, got {a.kind!r}",
            "帮扶类别无效",
        )
    if source_kind not in kind["by"]:
        raise _bad(
            "kind",
            f"{a.kind} is not given by {source_kind} (given by: {', '.join(kind['by'])})",
            f"“{kind['zh']}”不由该类主体给予",
        )
    if a.amount_fen is not None and (
        not isinstance(a.amount_fen, int)
        or isinstance(a.amount_fen, bool)
        or a.amount_fen < 0
        or a.amount_fen > 10**11
    ):
        raise _bad(
            "amount_fen",
            f"amount_fen must be a whole number of fen between 0 and 10^11, got {a.amount_fen!r}",
            "金额须为以分计的非负整数",
        )
    if a.given_on > today:
        raise _bad(
            "given_on", f"given_on {a.given_on} lies in the future (today is {today})", "帮扶日期不能晚于今天"
        )


def record_assistance(
    conn: Connection,
    *,
    household_id: int,
    region_code: str,
    assistance: Assistance,
    source_kind: str,
    source: str,
    actor: CurrentUser | str,
    now: dt.datetime,
    task_id: int | None = None,
    warning_id: int | None = None,
) -> int:
    """Insert one assistance record (checked by the caller, who has read the household and its
    region); 409 when the same aid is already recorded. A person named must be a member of the
    household (otherwise aid to someone of another household, or of another region, would be put on
    this one's chain)."""
    if assistance.person_id is not None and not is_member(
        conn, person_id=assistance.person_id, household_id=household_id
    ):
        raise _bad(
            "person_id",
            f"person {assistance.person_id} is not a member of this household; give the id of one of "
            "its members (household detail lists them) or leave person_id out",
            "该人员不是本户成员，请选择本户成员或不填",
        )
    try:  # the caller's transaction ends with the error: nothing of the feedback is kept either
        new_id = conn.execute(
            insert(assistance_records)
            .values(
                household_id=household_id,
                person_id=assistance.person_id,
                source_kind=source_kind,
                source=source,
                kind=assistance.kind,
                amount_fen=assistance.amount_fen,
                given_on=assistance.given_on,
                task_id=task_id,
                warning_id=warning_id,
                region_code=region_code,
                notes=assistance.notes,
                recorded_by=getattr(actor, "username", actor),
                recorded_at=now,
            )
            .returning(assistance_records.c.id)
        ).scalar_one()
    except IntegrityError:
        raise TaskActionError(
            409,
            "already_recorded",
            "this assistance is already recorded (same household, source, kind, date and amount)",
            "该帮扶记录已存在（同一户、同一主体、类别、日期和金额）",
        ) from None
    audit_record(
        None,
        conn=conn,
        actor=actor,
        action="write",
        object_type="assistance",
        object_id=str(new_id),
        fields=["kind", "amount_fen", "given_on"],
        detail=f"{source_kind}:{source}",
        at=now,
    )
    return new_id


def _store_attachment(a: Attachment) -> tuple[str, int]:
    if a.content_type not in ATTACHMENT_TYPES:
        raise _bad(
            "attachment",
            f"attachment must be a JPEG, PNG or PDF file, got {a.content_type!r} ({a.name})",
            "附件须为 JPEG、PNG 图片或 PDF 文件",
        )
    if not a.data:
        raise _bad("attachment", f"attachment {a.name} is empty", "附件为空")
    if len(a.data) > MAX_ATTACHMENT_BYTES:
        raise _bad(
            "attachment",
            f"attachment {a.name} is {len(a.data)} bytes; at most {MAX_ATTACHMENT_BYTES}",
            "附件不能超过 10 MB",
        )
    digest = hashlib.sha256(a.data).hexdigest()
    path = attachment_path(digest, a.content_type)
    if not path.exists():  # content-addressed: the same photo twice is stored once
        # photos and papers of a household: folders 0700 and files 0600 whatever the umask
        private_dir(path.parent)
        tmp = path.with_suffix(".part")
        write_private(tmp, a.data)
        tmp.replace(path)
    return digest, len(a.data)


def attachment_path(digest: str, content_type: str) -> Path:
    return (
        get_settings().data_dir
        / "attachments"
        / digest[:2]
        / (digest + ATTACHMENT_TYPES.get(content_type, ""))
    )


def give(
    engine: Engine,
    *,
    task_id: int,
    user: CurrentUser,
    outcome: str | None,
    notes: str | None = None,
    refusal_reason: str | None = None,
    assistance: Assistance | None = None,
    attachment: Attachment | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """The assignee's feedback: checks it against the task type's form, records it (and, for assistance
    given, the assistance record), moves the task to feedback_given and tells the township."""
    now = now or dt.datetime.now(dt.UTC)
    notes = (notes or "").strip() or None
    with notify.sent_after_commit(), engine.begin() as conn:
        row = load_task(conn, task_id, for_update=True)
        if not task_in_scope(user, row):
            raise NotFoundError(f"task {task_id} not found")
        to = _check_may(user, Action.feedback, row)
        allowed = OUTCOMES[TaskType(row.task_type)]
        if outcome not in allowed:
            raise _bad(
                "outcome",
                f"a {row.task_type} outcome must be one of {', '.join(allowed)}, got {outcome!r}",
                "反馈结果无效",
            )
        if outcome in NOTES_REQUIRED and not notes:
            raise _bad("notes", f"outcome {outcome} needs notes saying what was found", "请填写核查情况说明")
        assistance_id = None
        if outcome == DepartmentOutcome.refused.value and not (refusal_reason or "").strip():
            raise _bad("refusal_reason", "a refusal needs its reason", "不予帮扶须填写理由")
        if outcome == DepartmentOutcome.assisted.value:
            if assistance is None:
                raise _bad(
                    "assistance",
                    "assistance given needs its kind, date and (for money) amount in fen",
                    "已给予帮扶须填写帮扶类别、日期和金额",
                )
            check_assistance(assistance, source_kind=SourceKind.department.value, today=now.date())
            if row.household_id is None:
                raise _bad(
                    "assistance",
                    "this warning's person has no registered household to record assistance "
                    "for; record it once the household is registered",
                    "该人员尚未登记家庭，无法记录帮扶",
                )
            assistance_id = record_assistance(
                conn,
                household_id=row.household_id,
                # the household's region as the register holds it now (it may have moved since the warning)
                region_code=conn.execute(
                    select(households.c.region_code).where(households.c.id == row.household_id)
                ).scalar_one(),
                assistance=assistance,
                source_kind=SourceKind.department.value,
                source=row.department or Role.department_liaison.value,
                actor=user,
                now=now,
                task_id=row.id,
                warning_id=row.warning_id,
            )
        digest = size = None
        if attachment is not None:
            digest, size = _store_attachment(attachment)
        conn.execute(
            insert(task_feedback).values(
                task_id=row.id,
                outcome=outcome,
                notes=notes,
                refusal_reason=(refusal_reason or "").strip() or None,
                assistance_id=assistance_id,
                attachment_name=attachment.name[:200] if attachment else None,
                attachment_type=attachment.content_type if attachment else None,
                attachment_size=size,
                attachment_sha256=digest,
                actor=user.username,
                at=now,
            )
        )
        transition(
            conn,
            row,
            action=Action.feedback,
            to=to,
            actor=user,
            now=now,
            note=notes,
            detail={"outcome": outcome, "assistance_id": assistance_id},
        )
        notify.after_transition(
            conn, row, action=Action.feedback, to=to, actor=user.username, values={}, at=now
        )
    return {"task_id": task_id, "status": to.value, "outcome": outcome, "assistance_id": assistance_id}


def add_assistance(
    engine: Engine,
    *,
    user: CurrentUser,
    household_no: str,
    assistance: Assistance,
    source: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Assistance recorded directly: by civil affairs (township staff, administrators), a department's
    liaison or a charity, for a household (by its register number) in the user's region; outside it
    or unknown: NotFoundError."""
    now = now or dt.datetime.now(dt.UTC)
    role = Role(user.role)
    if role is Role.charity:
        source_kind, source = SourceKind.charity.value, (source or user.display_name).strip()
    elif role is Role.department_liaison:
        source_kind, source = SourceKind.department.value, user.department or "department"
    else:
        source_kind, source = SourceKind.civil_affairs.value, "civil_affairs"
    with engine.begin() as conn:
        row = search.scoped_household(conn, household_no, user.region_code)
        if row is None:
            raise NotFoundError(f"household {household_no} not found")
        check_assistance(assistance, source_kind=source_kind, today=now.date())
        return record_assistance(
            conn,
            household_id=row.id,
            region_code=row.region_code,
            assistance=assistance,
            source_kind=source_kind,
            source=source,
            actor=user,
            now=now,
        )
