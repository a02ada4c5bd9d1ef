"""Applications as plain data: the lifecycle (states, actions, the table of allowed transitions), the
pure rules of the process (dates, the notice, who investigates), money, and the enrolment an approval
opens, from the rules' assessment (the submission's checks: `submission`). No I/O here; `service`
applies these rules to stored applications.

The lifecycle (docs/contracts/applications.md): submitted → accepted | not_accepted → investigating →
notice (where the matter needs one) → approved | refused; approved → enrolled when the enrolment
begins; withdrawn at any time before a decision. Every state a transition enters stamps its own
`*_on` (the business date) and `*_at` (when it was recorded) columns and adds a history row. Two
actions record a fact without changing the state: `aid` (emergency help first, 先行救助) and
`notify_refusal` (the written refusal notice sent)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from safetynet.errors import SafetynetError


class Status(StrEnum):
    submitted = "submitted"  # in the township's intake queue (online, or entered without accepting)
    accepted = "accepted"  # 受理
    not_accepted = "not_accepted"  # 不予受理
    investigating = "investigating"  # 入户调查
    notice = "notice"  # 公示
    approved = "approved"
    refused = "refused"
    enrolled = "enrolled"  # the approval's enrolment has begun
    withdrawn = "withdrawn"


class Action(StrEnum):
    accept = "accept"
    not_accept = "not_accept"
    investigate = "investigate"
    notice = "notice"
    approve = "approve"
    refuse = "refuse"
    withdraw = "withdraw"
    enrol = "enrol"
    aid = "aid"
    notify_refusal = "notify_refusal"


class Channel(StrEnum):
    counter = "counter"  # 窗口
    online = "online"  # 指尖办
    warning = "warning"  # 主动发现: from a warning's field check


STATUS_LABELS: dict[str, dict[str, str]] = {
    Status.submitted: {"zh": "待受理", "en": "Submitted"},
    Status.accepted: {"zh": "已受理", "en": "Accepted"},
    Status.not_accepted: {"zh": "不予受理", "en": "Not accepted"},
    Status.investigating: {"zh": "入户调查", "en": "Investigating"},
    Status.notice: {"zh": "公示中", "en": "Public notice"},
    Status.approved: {"zh": "已批准", "en": "Approved"},
    Status.refused: {"zh": "不予批准", "en": "Refused"},
    Status.enrolled: {"zh": "已纳入", "en": "Enrolled"},
    Status.withdrawn: {"zh": "已撤回", "en": "Withdrawn"},
}
ACTION_LABELS: dict[str, dict[str, str]] = {
    Action.accept: {"zh": "受理", "en": "Accept"},
    Action.not_accept: {"zh": "不予受理", "en": "Do not accept"},
    Action.investigate: {"zh": "入户调查", "en": "Investigate"},
    Action.notice: {"zh": "公示", "en": "Public notice"},
    Action.approve: {"zh": "批准", "en": "Approve"},
    Action.refuse: {"zh": "不予批准", "en": "Refuse"},
    Action.withdraw: {"zh": "撤回", "en": "Withdraw"},
    Action.enrol: {"zh": "纳入", "en": "Enrol"},
    Action.aid: {"zh": "先行救助", "en": "Aid first"},
    Action.notify_refusal: {"zh": "送达不予批准通知", "en": "Refusal notice sent"},
    "submit": {"zh": "提交申请", "en": "Submit"},
}
CHANNEL_LABELS: dict[str, dict[str, str]] = {
    Channel.counter: {"zh": "窗口受理", "en": "Counter"},
    Channel.online: {"zh": "网上申请", "en": "Online"},
    Channel.warning: {"zh": "主动发现", "en": "From a warning"},
}

#: undecided: one such application per household and matter
OPEN = frozenset({Status.submitted, Status.accepted, Status.investigating, Status.notice})
DECIDED = frozenset({Status.approved, Status.refused, Status.enrolled})

#: action → {from state: to state}. Anything not listed is forbidden. `aid` and `notify_refusal` keep
#: the state (they record a fact); `matter_allows` narrows the table by the matter.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.accept: {Status.submitted: Status.accepted},
    Action.not_accept: {Status.submitted: Status.not_accepted},
    Action.investigate: {Status.accepted: Status.investigating},
    Action.notice: {Status.investigating: Status.notice},
    Action.approve: {Status.investigating: Status.approved, Status.notice: Status.approved},
    Action.refuse: {Status.investigating: Status.refused, Status.notice: Status.refused},
    Action.withdraw: {
        s: Status.withdrawn for s in (Status.submitted, Status.accepted, Status.investigating, Status.notice)
    },
    Action.enrol: {Status.approved: Status.enrolled},
    Action.aid: {s: s for s in (Status.accepted, Status.investigating, Status.notice)},
    Action.notify_refusal: {Status.refused: Status.refused},
}

#: the (business date, recorded at) columns each state stamps
STATE_COLUMNS: dict[Status, tuple[str, str]] = {
    Status.submitted: ("submitted_on", "submitted_at"),
    Status.accepted: ("accepted_on", "accepted_at"),
    Status.not_accepted: ("not_accepted_on", "not_accepted_at"),
    Status.investigating: ("investigating_on", "investigating_at"),
    Status.notice: ("notice_on", "notice_at"),
    Status.approved: ("approved_on", "approved_at"),
    Status.refused: ("refused_on", "refused_at"),
    Status.enrolled: ("enrolled_on", "enrolled_at"),
    Status.withdrawn: ("withdrawn_on", "withdrawn_at"),
}
#: actions that need a reason (the applicant is told why)
REASON_REQUIRED = frozenset({Action.not_accept, Action.refuse})
#: actions a user takes (enrol is the sweep's, when the enrolment begins; it may also be taken by hand)
USER_ACTIONS = tuple(Action)


@dataclass(frozen=True)
class MatterRules:
    """What of a catalogue matter the lifecycle needs (kept pure: no catalogue loading here)."""

    id: str
    needs_notice: bool
    enrols: str | None
    aid_first: bool


@dataclass(frozen=True)
class Facts:
    """What of a stored application the lifecycle needs to decide which actions are allowed."""

    status: Status
    aided: bool = False
    refusal_notified: bool = False


def matter_allows(action: Action, status: Status, matter: MatterRules, facts: Facts) -> bool:
    """The table's move, narrowed by the matter: a notice only where the matter needs one, and then no
    decision straight from the investigation; enrolment only for a matter that opens a tier; aid first
    only for emergency matters, once; the refusal notice recorded once."""
    if status not in TRANSITIONS[action]:
        return False
    if action is Action.notice:
        return matter.needs_notice
    if action is Action.approve and status is Status.investigating:
        return not matter.needs_notice
    if action is Action.refuse and status is Status.investigating:
        return True  # found ineligible: refused without a notice (the notice lists proposed approvals)
    if action is Action.enrol:
        return matter.enrols is not None
    if action is Action.aid:
        return matter.aid_first and not facts.aided
    if action is Action.notify_refusal:
        return not facts.refusal_notified
    return True


def allowed_actions(matter: MatterRules, facts: Facts) -> list[Action]:
    return [a for a in Action if matter_allows(a, facts.status, matter, facts)]


class ApplicationError(SafetynetError):
    """A use case refused: an HTTP-like status, a stable code, English and Chinese messages and the
    input field at fault (the API renders it as the platform's error body; the CLI prints it)."""

    def __init__(
        self, status: int, code: str, message: str, message_zh: str, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_zh, self.field = (
            status,
            code,
            message,
            message_zh,
            field,
        )


class TransitionError(ApplicationError):
    """An action the lifecycle does not allow now; names the actions that are."""

    def __init__(self, action: str, status: Status, allowed: list[Action]) -> None:
        names = ", ".join(a.value for a in allowed) or "none (the application is finished)"
        zh_names = "、".join(f"{ACTION_LABELS[a]['zh']}({a.value})" for a in allowed) or "无（已办结）"
        super().__init__(
            409,
            "transition_not_allowed",
            f"an application that is {status.value!r} cannot be given the action {action!r}; "
            f"allowed now: {names}",
            f"申请当前状态为“{STATUS_LABELS[status]['zh']}”，不能执行“{action}”；当前可执行：{zh_names}",
            "action",
        )
        self.allowed = [a.value for a in allowed]


def parse_action(value: object, status: Status, allowed: list[Action]) -> Action:
    """The action named, or TransitionError naming the allowed ones (an unknown action is not allowed
    either)."""
    try:
        action = Action(str(value))
    except ValueError:
        raise TransitionError(str(value), status, allowed) from None
    if action not in allowed:
        raise TransitionError(action.value, status, allowed)
    return action


# --- dates --------------------------------------------------------------------------------------


def first_of_next_month(day: dt.date) -> dt.date:
    """Payment and the enrolment start from the month after the decision (docs/policy.md §4)."""
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def notice_until(notice_on: dt.date, days: int) -> dt.date:
    """The last day of a notice of `days` days starting on `notice_on` (the first day counts)."""
    return notice_on + dt.timedelta(days=days - 1)


def check_decision_date(on: dt.date, until: dt.date | None) -> None:
    """No decision before the notice has ended: the first day a decision may be taken is the day
    after its last day."""
    if until is not None and on <= until:
        first = until + dt.timedelta(days=1)
        raise ApplicationError(
            409,
            "notice_running",
            f"the public notice runs until {until.isoformat()}: no decision before it ends; decide on or "
            f"after {first.isoformat()}",
            f"公示期至 {until.isoformat()} 结束，公示期满前不能作出决定；请于 {first.isoformat()} 或之后决定",
            "on",
        )


def check_action_date(on: dt.date, *, last: dt.date, today: dt.date) -> None:
    """An action is dated on or after the application's last step and not in the future."""
    if on > today:
        raise ApplicationError(
            422,
            "invalid",
            f"the date {on.isoformat()} is in the future (today is "
            f"{today.isoformat()}); give the day the action was taken (YYYY-MM-DD)",
            f"日期 {on.isoformat()} 晚于今天",
            "on",
        )
    if on < last:
        raise ApplicationError(
            422,
            "invalid",
            f"the date {on.isoformat()} is before the application's last step "
            f"({last.isoformat()}); actions are recorded in order",
            f"日期 {on.isoformat()} 早于申请的上一步（{last.isoformat()}）",
            "on",
        )


def parse_staff(value: str | list[str] | None) -> list[str] | None:
    """The investigators: at least two different names (docs/policy.md §4), or None (the platform
    acting for the township). Names are 1–32 characters."""
    if value is None:
        return None
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if str(n).strip()]
    if len(names) < 2 or len({n for n in names}) < len(names):
        raise ApplicationError(
            422,
            "invalid",
            "--staff / staff names the household investigation's staff: at "
            "least two different names, e.g. 王芳,李强",
            "入户调查须至少两名不同的工作人员，如：王芳,李强",
            "staff",
        )
    if any(len(n) > 32 for n in names) or len(names) > 6:
        raise ApplicationError(
            422,
            "invalid",
            "staff: 2 to 6 names of at most 32 characters each",
            "调查人员为 2–6 人，每人姓名不超过 32 个字符",
            "staff",
        )
    return names


def parse_reason(action: Action, reason: str | None) -> str | None:
    text = (reason or "").strip() or None
    if action in REASON_REQUIRED and text is None:
        raise ApplicationError(
            422,
            "invalid",
            f"{action.value} needs the reasons the applicant is told (--reason / reason)",
            f"{ACTION_LABELS[action]['zh']}须写明理由",
            "reason",
        )
    if text is not None and len(text) > 2000:
        raise ApplicationError(
            422, "invalid", "reason: at most 2000 characters", "理由不超过 2000 字", "reason"
        )
    return text


# --- money --------------------------------------------------------------------------------------


def yuan(fen: int | None) -> str | None:
    """Integer fen as a string with two decimals (never a float outside the store)."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def to_fen(value: object) -> int:
    """Yuan (a number or a string with at most 2 decimals) → integer fen, rounded half up."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount in yuan") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not an amount in yuan")
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_amount(value: object) -> int:
    """An amount of aid: yuan, more than 0, at most 2 decimals and 100,000,000."""
    text = str(value).strip() if value is not None else ""
    try:
        d = Decimal(text)
    except InvalidOperation:
        d = Decimal(-1)
    if not d.is_finite() or d <= 0 or d > 100_000_000 or d != d.quantize(Decimal("0.01")):
        raise ApplicationError(
            422,
            "invalid",
            f"amount {value!r}: yuan above 0 with at most 2 decimals, e.g. 800 or 800.50",
            "金额须为大于 0 的元数，最多两位小数，如 800.50",
            "amount",
        )
    return int(d * 100)


# --- the enrolment an approval opens ------------------------------------------------------------


@dataclass(frozen=True)
class EnrolledPerson:
    key: str  # the assessment's member key (m1, m2, …)
    tier: str
    monthly_benefit_fen: int | None  # None: the tier pays no monthly cash (edge, rigid expenditure)
    care_level: str | None = None


class NoEligibleMember(ApplicationError):
    def __init__(self, tier: str, household_tier: str, as_of: str) -> None:
        super().__init__(
            409,
            "assessment_disagrees",
            f"the rules' assessment (as of {as_of}) finds no member eligible for {tier} (household tier: "
            f"{household_tier}); refuse the application with its reasons, or apply for the matter the "
            "assessment supports",
            f"政策测算（{as_of}）认定本户无成员符合“{tier}”条件（家庭认定为 {household_tier}），"
            "请作出不予批准决定并说明理由，或按测算结果申请相应事项",
            "action",
        )


def _explained(explanation: list[dict], rule: str) -> dict[str | None, dict]:
    return {
        e.get("person"): e.get("values") or {}
        for e in explanation
        if e.get("rule") == rule and e.get("passed")
    }


def enrolment_plan(assessment: dict, tier: str) -> list[EnrolledPerson]:
    """Who an approval for `tier` enrols and with what monthly amount, from the rules' assessment (the
    assess contract's output): the members whose assessed tier is `tier`. An extremely poor person gets
    their support (basic + care standard); a single-person dibao member their own amount; the household's
    dibao amount is shared by the household's dibao members in whole fen (the first ones take the odd fen),
    so the shares add up to it exactly; dibao-edge and rigid-expenditure families receive no monthly cash."""
    explanation = assessment.get("explanation") or []
    persons = [p for p in assessment.get("persons") or [] if p.get("tier") == tier]
    if not persons:
        raise NoEligibleMember(tier, str(assessment.get("household_tier")), str(assessment.get("as_of")))
    if tier == "extremely_poor":
        amounts = _explained(explanation, "extremely_poor.benefit")
        return [
            EnrolledPerson(
                p["id"], tier, to_fen(amounts.get(p["id"], {}).get("amount", 0)), p.get("care_level")
            )
            for p in persons
        ]
    if tier != "dibao":
        return [EnrolledPerson(p["id"], tier, None) for p in persons]
    single = _explained(explanation, "dibao.single_person")
    shared = [p for p in persons if not p.get("single_person_dibao")]
    household = _explained(explanation, "dibao.household").get(None, {})
    total = to_fen(household.get("amount", 0)) if shared else 0
    base, odd = divmod(total, len(shared)) if shared else (0, 0)
    share = {p["id"]: base + (1 if i < odd else 0) for i, p in enumerate(shared)}
    return [
        EnrolledPerson(
            p["id"],
            tier,
            to_fen(single.get(p["id"], {}).get("amount", 0))
            if p.get("single_person_dibao")
            else share[p["id"]],
        )
        for p in persons
    ]


def assessment_view(stored: dict | None) -> dict | None:
    """The stored assessment as `show` gives it: amounts as strings with two decimals."""
    if not stored:
        return None
    return {
        "source": stored.get("source"),
        "as_of": stored.get("as_of"),
        "month": stored.get("month"),
        "household_tier": stored.get("household_tier"),
        "per_capita_income_monthly": yuan(stored.get("per_capita_income_fen")),
        "benefits_monthly": {k: yuan(v) for k, v in (stored.get("benefits_fen") or {}).items()},
        "persons": stored.get("persons") or [],
        "explanation": stored.get("explanation") or [],
    }


def stored_assessment(out: dict, *, as_of: str, month: str, members: list[dict]) -> dict:
    """The rules' output (assess contract) as kept with the application: amounts in integer fen, the
    member keys mapped to the register's persons (`members`: [{key, person_id}])."""
    return {
        "source": "verification_report",
        "as_of": as_of,
        "month": month,
        "household_tier": out["household_tier"],
        "per_capita_income_fen": to_fen(out["per_capita_income_monthly"]),
        "benefits_fen": {k: to_fen(v) for k, v in out["benefits_monthly"].items()},
        "persons": out["persons"],
        "explanation": out["explanation"],
        "members": members,
    }
