"""Where a field check goes (入户核查): the household's address, phone and current members shown with
the task, masked; and, for the visit only, the phone and the members' names unmasked for the worker
the field check is assigned to or the grid worker of the household's grid (a grid worker has no
registry.unmask: the task is what entitles them, and only while it is open)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from safetynet import identity
from safetynet.auth.model import CurrentUser, Role
from safetynet.casework.model import OPEN, Status, TaskType
from safetynet.casework.store import tasks
from safetynet.casework.views import scope_conditions
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.registry import model as registry_model
from safetynet.registry.search import _mask_phone
from safetynet.registry.store import households, memberships, persons

VISIT_FIELDS = ("phone", "members.name")


class VisitRefused(SafetynetError):
    """The task is in the user's sight but does not entitle them to the household's contact."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code, self.message, self.message_zh = code, message, message_zh


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _members(conn: Connection, household_id: int):  # noqa: ANN202
    """Current members, the head first (as the household page lists them)."""
    return conn.execute(
        select(persons.c.id, persons.c.name, persons.c.birth_date, memberships.c.relation)
        .join(memberships, memberships.c.person_id == persons.c.id)
        .where(memberships.c.household_id == household_id, memberships.c.valid_to.is_(None))
        .order_by(memberships.c.relation != "head", persons.c.birth_date, persons.c.id)
    ).all()


def household_block(conn: Connection, household_id: int | None, on: dt.date) -> dict | None:
    """The task's household as a visitor needs it: address, phone and members, names masked."""
    if household_id is None:
        return None
    h = conn.execute(
        select(households.c.address, households.c.phone).where(households.c.id == household_id)
    ).first()
    if h is None:
        return None
    return {
        "address": h.address,
        "phone": _mask_phone(h.phone),
        "members": [
            {
                "person_id": m.id,
                "name": identity.mask_name(m.name),
                "relation": m.relation,
                "relation_label": registry_model.RELATION_LABELS.get(m.relation, m.relation),
                "age": _age(m.birth_date, on),
            }
            for m in _members(conn, household_id)
        ],
    }


def visit_contact(conn: Connection, *, user: CurrentUser, task_id: int) -> dict:
    """The phone and the members' full names for an open field check that is the user's to visit.
    NotFoundError outside the user's task scope; VisitRefused inside it but not theirs to visit."""
    row = conn.execute(
        select(tasks.c.task_type, tasks.c.status, tasks.c.assignee, tasks.c.grid_code, tasks.c.household_id)
        .where(tasks.c.id == task_id, *scope_conditions(user))
    ).first()
    if row is None:
        raise NotFoundError(f"task {task_id} not found")
    if row.task_type != TaskType.field_check.value or row.household_id is None:
        raise VisitRefused("not_a_field_check", "only a field check's household contact is shown for a visit",
                           "只有入户核查任务可查看联系方式")
    if Status(row.status) not in OPEN:
        raise VisitRefused("task_closed", "the task is closed: the visit's contact is no longer shown",
                           "任务已办结，不再提供联系方式")
    own_grid = user.role == Role.grid_worker.value and row.grid_code == user.region_code
    if row.assignee != user.username and not own_grid:
        raise VisitRefused("not_your_visit", "only the worker the field check is assigned to, or the grid's "
                           "grid worker, may see the household's contact",
                           "只有该入户核查的承办人或本网格网格员可查看联系方式")
    h = conn.execute(select(households.c.phone).where(households.c.id == row.household_id)).one()
    return {
        "task_id": task_id,
        "phone": h.phone,
        "members": [{"person_id": m.id, "name": m.name} for m in _members(conn, row.household_id)],
    }
