"""The task workflow as plain data: task types, states, the allowed (from, to) transitions per action,
feedback outcomes and assistance kinds. No I/O here; `service` applies these rules to stored tasks.

A warning becomes one field check (the township or grid worker visits and confirms) and, by need, one
push to the responsible department. Every state a task enters stamps its own `*_at` column, and
every transition is also a row of the task's history (a task may pass through a state twice)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TaskType(StrEnum):
    field_check = "field_check"  # 入户核查: township caseworker or grid worker
    department_push = "department_push"  # 部门推送: the responsible department acts on the need


class Status(StrEnum):
    new = "new"
    assigned = "assigned"  # a field check in a township's or grid's queue
    pushed = "pushed"  # a department task in the department's queue
    accepted = "accepted"  # a named user took it
    verifying = "verifying"  # in verification / being handled
    feedback_given = "feedback_given"  # the result is in; the township reviews it
    closed = "closed"
    returned = "returned"  # sent back: by the worker (not theirs) or by the township (redo)
    escalated = "escalated"  # overdue: moved to the next level's queue


class Action(StrEnum):
    assign = "assign"
    push = "push"
    accept = "accept"
    start = "start"
    feedback = "feedback"
    close = "close"
    give_back = "return"  # `return` is a keyword
    reassign = "reassign"
    escalate = "escalate"


STATUS_LABELS: dict[Status, dict[str, str]] = {
    Status.new: {"zh": "新建", "en": "New"},
    Status.assigned: {"zh": "已派发", "en": "Assigned"},
    Status.pushed: {"zh": "已推送", "en": "Pushed"},
    Status.accepted: {"zh": "已接收", "en": "Accepted"},
    Status.verifying: {"zh": "核查中", "en": "In verification"},
    Status.feedback_given: {"zh": "已反馈", "en": "Feedback given"},
    Status.closed: {"zh": "已办结", "en": "Closed"},
    Status.returned: {"zh": "已退回", "en": "Returned"},
    Status.escalated: {"zh": "已升级", "en": "Escalated"},
}
TYPE_LABELS: dict[TaskType, dict[str, str]] = {
    TaskType.field_check: {"zh": "入户核查", "en": "Field check"},
    TaskType.department_push: {"zh": "部门推送", "en": "Department push"},
}
ACTION_LABELS: dict[Action, dict[str, str]] = {
    Action.assign: {"zh": "派发", "en": "Assign"},
    Action.push: {"zh": "推送", "en": "Push"},
    Action.accept: {"zh": "接收", "en": "Accept"},
    Action.start: {"zh": "开始核查", "en": "Start verification"},
    Action.feedback: {"zh": "提交反馈", "en": "Give feedback"},
    Action.close: {"zh": "办结", "en": "Close"},
    Action.give_back: {"zh": "退回", "en": "Return"},
    Action.reassign: {"zh": "改派", "en": "Reassign"},
    Action.escalate: {"zh": "升级", "en": "Escalate"},
}

OPEN = frozenset(set(Status) - {Status.closed})
#: open states in which the deadline still runs: once feedback is in, the worker is done and the task
#: waits on the township, so it is not "overdue"
DEADLINE_RUNS = frozenset(OPEN - {Status.feedback_given})
#: states in which the task waits for its queue, not for a named person
QUEUED = frozenset({Status.assigned, Status.pushed, Status.escalated, Status.returned})

#: action → {from state: to state}. Anything not listed is forbidden.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.assign: {Status.new: Status.assigned},
    Action.push: {Status.new: Status.pushed},
    Action.accept: {
        Status.assigned: Status.accepted,
        Status.pushed: Status.accepted,
        Status.escalated: Status.accepted,
        Status.returned: Status.accepted,
    },
    Action.start: {Status.accepted: Status.verifying},
    Action.feedback: {Status.verifying: Status.feedback_given},
    Action.close: {Status.feedback_given: Status.closed},
    # the worker hands back a task that is not theirs (before feedback), or the township sends the
    # feedback back to be redone
    Action.give_back: {
        Status.assigned: Status.returned,
        Status.pushed: Status.returned,
        Status.accepted: Status.returned,
        Status.verifying: Status.returned,
        Status.feedback_given: Status.returned,
    },
    # the township (or the level above) gives the task to another queue or person
    Action.reassign: {
        s: Status.assigned
        for s in (
            Status.assigned,
            Status.pushed,
            Status.accepted,
            Status.verifying,
            Status.returned,
            Status.escalated,
        )
    },
    # overdue (the sweep) or by hand
    Action.escalate: {
        s: Status.escalated
        for s in (Status.assigned, Status.pushed, Status.accepted, Status.verifying, Status.returned)
    },
}

#: the `*_at` column each state stamps
STATE_TIMESTAMP: dict[Status, str] = {
    Status.new: "created_at",
    Status.assigned: "assigned_at",
    Status.pushed: "pushed_at",
    Status.accepted: "accepted_at",
    Status.verifying: "verifying_at",
    Status.feedback_given: "feedback_at",
    Status.closed: "closed_at",
    Status.returned: "returned_at",
    Status.escalated: "escalated_at",
}


class TransitionError(ValueError):
    """An action not allowed from the task's state; says which actions are."""

    def __init__(self, action: str, status: str) -> None:
        allowed = allowed_actions(Status(status)) if status in Status.__members__ else []
        super().__init__(
            f"a task that is {status!r} cannot be given the action {action!r}; "
            f"allowed now: {', '.join(a.value for a in allowed) or 'none (closed)'}"
        )
        self.action, self.status = action, status
        zh_allowed = "、".join(ACTION_LABELS[a]["zh"] for a in allowed) or "无（已办结）"
        label = (
            STATUS_LABELS.get(Status(status), {}).get("zh", status)
            if status in Status.__members__
            else status
        )
        self.message_zh = f"任务当前状态为“{label}”，不能执行该操作；当前可执行：{zh_allowed}"


def next_status(action: Action | str, status: Status | str) -> Status:
    """The state `action` takes a task in `status` to, or TransitionError."""
    try:
        act = Action(action)
    except ValueError:
        raise TransitionError(str(action), str(status)) from None
    to = TRANSITIONS[act].get(Status(status))
    if to is None:
        raise TransitionError(act.value, str(status))
    return to


def allowed_actions(status: Status) -> list[Action]:
    return [a for a, moves in TRANSITIONS.items() if status in moves]


# --- feedback -----------------------------------------------------------------------------------


class FieldOutcome(StrEnum):
    confirmed_need = "confirmed_need"  # the hardship is real: assistance should follow
    no_need = "no_need"
    wrong_data = "wrong_data"  # the department's data was wrong (the warning was false)
    not_found = "not_found"  # the person could not be found at the address


class DepartmentOutcome(StrEnum):
    assisted = "assisted"
    refused = "refused"


OUTCOME_LABELS: dict[str, dict[str, str]] = {
    FieldOutcome.confirmed_need: {"zh": "确有困难", "en": "Need confirmed"},
    FieldOutcome.no_need: {"zh": "无需救助", "en": "No need"},
    FieldOutcome.wrong_data: {"zh": "数据有误", "en": "Wrong data"},
    FieldOutcome.not_found: {"zh": "查无此人", "en": "Person not found"},
    DepartmentOutcome.assisted: {"zh": "已给予帮扶", "en": "Assistance given"},
    DepartmentOutcome.refused: {"zh": "不予帮扶", "en": "Refused"},
}

OUTCOMES: dict[TaskType, tuple[str, ...]] = {
    TaskType.field_check: tuple(FieldOutcome),
    TaskType.department_push: tuple(DepartmentOutcome),
}


# --- assistance ---------------------------------------------------------------------------------


class SourceKind(StrEnum):
    civil_affairs = "civil_affairs"
    department = "department"
    charity = "charity"


#: kinds of assistance; each says which source kinds may give it
ASSISTANCE_KINDS: dict[str, dict] = {
    "dibao": {"zh": "最低生活保障金", "en": "Dibao allowance", "by": ("civil_affairs",)},
    "extremely_poor_support": {"zh": "特困供养金", "en": "Extremely-poor support", "by": ("civil_affairs",)},
    "temporary_assistance": {"zh": "临时救助", "en": "Temporary assistance", "by": ("civil_affairs",)},
    "medical_assistance": {"zh": "医疗救助", "en": "Medical assistance", "by": ("department",)},
    "education_assistance": {"zh": "教育救助", "en": "Education assistance", "by": ("department",)},
    "employment_assistance": {"zh": "就业帮扶", "en": "Employment assistance", "by": ("department",)},
    "housing_assistance": {"zh": "住房救助", "en": "Housing assistance", "by": ("department",)},
    "disaster_relief": {"zh": "受灾人员救助", "en": "Disaster relief", "by": ("department",)},
    "charity_material": {"zh": "慈善物资帮扶", "en": "Charity (material)", "by": ("charity",)},
    "charity_service": {"zh": "慈善服务帮扶", "en": "Charity (service)", "by": ("charity",)},
    "other": {"zh": "其他帮扶", "en": "Other", "by": ("civil_affairs", "department", "charity")},
}


@dataclass(frozen=True)
class Queue:
    """Where a task waits: the role that works it, the region whose users of that role see it (a grid,
    a township, a county, ...) and for a department task the department."""

    role: str
    region: str
    department: str | None = None
