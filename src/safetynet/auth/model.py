"""Roles, capabilities and the rules for accounts, as plain data and pure functions.

The role → capabilities table is the one place that decides who may do what; routes ask for
a capability (`auth.deps.require("registry.read")`), never for a role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from zxcvbn import zxcvbn

from safetynet.regions.model import short_code


class Role(StrEnum):
    province_admin = "province_admin"
    city_admin = "city_admin"
    county_admin = "county_admin"
    township_caseworker = "township_caseworker"
    township_reviewer = "township_reviewer"
    grid_worker = "grid_worker"
    department_liaison = "department_liaison"
    charity = "charity"
    auditor = "auditor"
    data_officer = "data_officer"


ROLE_LABELS: dict[Role, dict[str, str]] = {
    Role.province_admin: {"zh": "省级管理员", "en": "Province administrator"},
    Role.city_admin: {"zh": "市级管理员", "en": "City administrator"},
    Role.county_admin: {"zh": "县级管理员", "en": "County administrator"},
    Role.township_caseworker: {"zh": "乡镇经办人", "en": "Township caseworker"},
    Role.township_reviewer: {"zh": "乡镇审核人", "en": "Township reviewer"},
    Role.grid_worker: {"zh": "网格员", "en": "Grid worker"},
    Role.department_liaison: {"zh": "部门联络员", "en": "Department liaison"},
    Role.charity: {"zh": "慈善组织", "en": "Charity organisation"},
    Role.auditor: {"zh": "审计员", "en": "Auditor"},
    Role.data_officer: {"zh": "数据管理员", "en": "Data officer"},
}

DEPARTMENTS: dict[str, dict[str, str]] = {
    "medical_insurance": {"zh": "医保", "en": "Medical insurance"},
    "education": {"zh": "教育", "en": "Education"},
    "hr_social_security": {"zh": "人社", "en": "Human resources and social security"},
    "housing": {"zh": "住建", "en": "Housing and urban-rural development"},
    "emergency_management": {"zh": "应急管理", "en": "Emergency management"},
    "health": {"zh": "卫健", "en": "Health"},
    "disabled_persons": {"zh": "残联", "en": "Disabled persons' federation"},
}

CAPABILITIES: dict[str, dict[str, str]] = {
    "dashboard.read": {"zh": "查看监测看板", "en": "Read the dashboard"},
    "registry.read": {"zh": "查询人员库（脱敏）", "en": "Search the register (masked)"},
    "registry.unmask": {"zh": "查看完整身份信息（留痕）", "en": "Unmask identity (audited)"},
    "registry.sensitive": {"zh": "查看收入、残疾、健康、银行信息（留痕）",
                           "en": "Read income, disability, health, bank data (audited)"},
    "standards.read": {"zh": "查看保障标准", "en": "Read local standards"},
    "standards.write": {"zh": "维护保障标准", "en": "Maintain local standards"},
    "rules.assess": {"zh": "政策测算", "en": "Assess eligibility"},
    "simulation.run": {"zh": "政策模拟", "en": "Run policy simulations"},
    "assessment.run": {"zh": "发起认定评估", "en": "Run assessments"},
    "assessment.read": {"zh": "查看认定评估", "en": "Read assessments"},
    "verification.read": {"zh": "查看核对结果", "en": "Read verification results"},
    "verification.authorise": {"zh": "核对授权", "en": "Authorise verification"},
    "feeds.read": {"zh": "查看部门数据台账", "en": "Read the feed load ledger"},
    "feeds.ingest": {"zh": "导入部门数据", "en": "Ingest department feeds"},
    "linkage.review": {"zh": "人工复核记录关联", "en": "Review record linkage"},
    "audit.read": {"zh": "查看审计日志", "en": "Read the audit log"},
    "users.admin": {"zh": "用户管理", "en": "Administer users"},
    "warnings.read": {"zh": "查看监测预警", "en": "Read monitoring warnings"},
    "warnings.runs": {"zh": "查看监测运行记录", "en": "Read monitor runs"},
    "tasks.read": {"zh": "查看核查处置任务", "en": "Read tasks"},
    "tasks.work": {"zh": "承办任务（接收、核查、反馈）", "en": "Work tasks (accept, verify, give feedback)"},
    "tasks.manage": {"zh": "管理任务（办结、退回、改派、升级）",
                     "en": "Manage tasks (close, return, reassign, escalate)"},
    "tasks.dispatch": {"zh": "分类推送与逾期升级", "en": "Dispatch warnings as tasks, sweep overdue ones"},
    "assistance.record": {"zh": "登记救助帮扶", "en": "Record assistance given"},
    "applications.read": {"zh": "查看救助申请", "en": "Read applications"},
    "applications.intake": {"zh": "受理与办理救助申请", "en": "Take and handle applications"},
    "applications.decide": {"zh": "审核确认（批准、不予批准）", "en": "Decide applications"},
    "routing.admin": {"zh": "维护分类推送规则", "en": "Maintain the routing table"},
    "calendar.admin": {"zh": "维护工作日历", "en": "Maintain the working-day calendar"},
}

_ALL = frozenset(CAPABILITIES)
_CASEWORK = frozenset({
    "dashboard.read", "registry.read", "registry.unmask", "registry.sensitive", "standards.read",
    "rules.assess", "assessment.read", "verification.read", "warnings.read",
    "tasks.read", "tasks.work", "tasks.manage", "assistance.record",
    "applications.read", "applications.intake",
})
# province-wide settings and jobs: the routing table, the holiday calendar, the monthly dispatch
_PROVINCE_ONLY = frozenset({"routing.admin", "calendar.admin", "tasks.dispatch"})

ROLE_CAPABILITIES: dict[Role, frozenset[str]] = {
    Role.province_admin: _ALL,
    # the linkage review queue is province-wide (the data centre's), so only province roles
    Role.city_admin: _ALL - {"linkage.review"} - _PROVINCE_ONLY,
    Role.county_admin: _ALL - {"feeds.ingest", "linkage.review"} - _PROVINCE_ONLY,
    # the caseworker takes the family's signed authorisation with the application
    Role.township_caseworker: _CASEWORK | {"verification.authorise"},
    # ... and the reviewer decides (审核确认), which the caseworker who took the application does not
    Role.township_reviewer: _CASEWORK | {"assessment.run", "verification.authorise", "applications.decide"},
    # the field worker: checks at the door and reports back (casework.access decides which tasks)
    Role.grid_worker: frozenset({"dashboard.read", "registry.read", "warnings.read", "tasks.read",
                                 "tasks.work"}),
    # a liaison reads only the warnings and tasks whose need is pushed to their department
    Role.department_liaison: frozenset({"dashboard.read", "registry.read", "feeds.read", "warnings.read",
                                        "tasks.read", "tasks.work", "assistance.record",
                                        "applications.read"}),
    # a charity records the help it gave to a family it knows by household number
    Role.charity: frozenset({"dashboard.read", "assistance.record"}),
    Role.auditor: frozenset({"audit.read", "dashboard.read", "registry.read", "standards.read",
                             "assessment.read", "verification.read", "feeds.read", "warnings.read",
                             "tasks.read", "applications.read"}),
    Role.data_officer: frozenset({"dashboard.read", "registry.read", "standards.read", "feeds.read",
                                  "feeds.ingest", "linkage.review", "warnings.runs", "tasks.dispatch"}),
}

# An administrator may grant a role only up to their own rank (never above).
ROLE_RANK: dict[Role, int] = {
    Role.province_admin: 100,
    Role.city_admin: 90,
    Role.county_admin: 80,
    Role.township_reviewer: 30,
    Role.auditor: 30,
    Role.data_officer: 30,
    Role.township_caseworker: 20,
    Role.department_liaison: 20,
    Role.grid_worker: 10,
    Role.charity: 10,
}

# Administrator roles sit at exactly one level of the region tree and must enrol TOTP.
ADMIN_ROLE_LEVEL: dict[Role, str] = {
    Role.province_admin: "province",
    Role.city_admin: "city",
    Role.county_admin: "county",
}

# Roles bound to exactly one level: the administrators, and the data officer of the
# province's data centre (department feeds and the linkage queue are province-wide).
ROLE_LEVEL: dict[Role, str] = {**ADMIN_ROLE_LEVEL, Role.data_officer: "province"}

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")
PASSWORD_MIN_LENGTH = 10
# zxcvbn's score 0–4; 3 is "safely unguessable" (about 10^8 guesses and more)
PASSWORD_MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72
# zxcvbn's warnings (English), said loosely in Chinese; any other: the generic sentence
_WARNINGS_ZH = {
    "Straight rows of keys are easy to guess.": "键盘上连续的一排按键很容易被猜到",
    "Short keyboard patterns are easy to guess.": "简短的键盘图案很容易被猜到",
    'Repeats like "aaa" are easy to guess.': "重复的字符（如 aaa）很容易被猜到",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "重复的片段（如 abcabc）很容易被猜到",
    'Sequences like "abc" or "6543" are easy to guess.': "连续的字母或数字（如 abc、6543）很容易被猜到",
    "Recent years are easy to guess.": "近年的年份很容易被猜到",
    "Dates are often easy to guess.": "日期很容易被猜到",
    "This is a top-10 common password.": "这是最常见的密码之一",
    "This is a top-100 common password.": "这是最常见的密码之一",
    "This is a very common password.": "这是很常见的密码",
    "This is similar to a commonly used password.": "与常见密码相似",
    "A word by itself is easy to guess.": "单个单词很容易被猜到",
    "Names and surnames by themselves are easy to guess.": "单独的姓名很容易被猜到",
    "Common names and surnames are easy to guess.": "常见的姓名很容易被猜到",
}
_GENERIC_ZH = "含有常见单词、姓名、用户名、日期或简单规律"


class AccountRuleError(ValueError):
    """A rule about accounts is broken; `field` names the input, messages in English and Chinese."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.field = field
        self.message_zh = message_zh


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccountRuleError(
            "role", f"unknown role {value!r}; valid roles: {', '.join(r.value for r in Role)}",
            f"未知角色 {value!r}；可选角色：{'、'.join(ROLE_LABELS[r]['zh'] for r in Role)}",
        ) from None


def check_username(username: str) -> str:
    if not USERNAME_RE.match(username or ""):
        raise AccountRuleError(
            "username",
            "username must be 3–32 characters: lower-case letters, digits, '_', '.', '-', "
            f"starting with a letter (got {username!r})",
            "用户名须为 3–32 位小写字母、数字、下划线、点或连字符，并以字母开头",
        )
    return username


def check_password(password: str, *, user_inputs: tuple[str | None, ...] | list[str | None] = ()) -> str:
    """Password policy: at least 10 characters with both letters and digits, and not easy to
    guess — zxcvbn's estimate must reach PASSWORD_MIN_SCORE, so common passwords (`password12`),
    repeats (`aaaaaaaaa1`), sequences, keyboard rows, dates and words built from the account's
    own `user_inputs` (username, display name) are refused with what is wrong, in both languages."""
    if (len(password or "") < PASSWORD_MIN_LENGTH or not any(c.isalpha() for c in password)
            or not any(c.isdigit() for c in password)):
        raise AccountRuleError(
            "password",
            f"password must be at least {PASSWORD_MIN_LENGTH} characters and contain both letters "
            "and digits",
            f"密码至少 {PASSWORD_MIN_LENGTH} 位，且须同时包含字母和数字",
        )
    inputs = [str(v) for v in user_inputs if v]
    # zxcvbn refuses inputs over 72 characters; characters beyond only make a password stronger
    verdict = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[v[:ZXCVBN_MAX_LENGTH] for v in inputs])
    if verdict["score"] < PASSWORD_MIN_SCORE:
        warning = verdict["feedback"].get("warning") or ""
        hint = " ".join(verdict["feedback"].get("suggestions") or [])
        raise AccountRuleError(
            "password",
            "password is too easy to guess"
            + (f": {warning.rstrip('.')}" if warning else " (common words, names, dates or patterns)")
            + (f". {hint}" if hint else ""),
            f"密码太容易被猜中：{_WARNINGS_ZH.get(warning, _GENERIC_ZH)}。"
            "请使用更长、更少见的组合（如几个不相关的词加数字）",
        )
    return password


def check_new_password(new: str, *, current: str, username: str, display_name: str | None = None) -> str:
    """A user's own new password: the policy, plus it must differ from the current one and
    must not contain the username (the first guess of anyone who knows the account). The
    current password counts as a guessable input too (`Spring2026x` → `Spring2027x` is weak)."""
    if new == current:
        raise AccountRuleError("new_password", "the new password must differ from the current one",
                               "新密码不能与当前密码相同")
    if username and username.lower() in (new or "").lower():
        raise AccountRuleError("new_password", f"the new password must not contain the username {username!r}",
                               "新密码不能包含用户名")
    try:
        check_password(new, user_inputs=(username, display_name, current))
    except AccountRuleError as e:
        raise AccountRuleError("new_password", str(e), e.message_zh) from None
    return new


def check_department(role: Role, department: str | None) -> str | None:
    if role is Role.department_liaison:
        if department not in DEPARTMENTS:
            raise AccountRuleError(
                "department",
                f"a department liaison needs a department, one of: {', '.join(DEPARTMENTS)} "
                f"(got {department!r})",
                f"部门联络员须指定所属部门：{'、'.join(d['zh'] for d in DEPARTMENTS.values())}",
            )
        return department
    if department:
        raise AccountRuleError("department", "only a department liaison has a department",
                               "只有部门联络员需要指定部门")
    return None


def check_role_level(role: Role, region_level: str) -> None:
    want = ROLE_LEVEL.get(role)
    if want is not None and region_level != want:
        raise AccountRuleError(
            "region_code", f"a {role.value} must be bound to a {want} region (got a {region_level})",
            f"{ROLE_LABELS[role]['zh']}须绑定到对应级别的行政区划",
        )


def may_grant(granter: Role, role: Role) -> bool:
    """An administrator never grants a role ranked above their own."""
    return ROLE_RANK[role] <= ROLE_RANK[granter]


def is_admin(role: Role | str) -> bool:
    return Role(role) in ADMIN_ROLE_LEVEL


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as routes see it (`auth.deps.require` hands it over)."""

    username: str
    display_name: str
    role: str
    region_code: str  # 12-digit code (14 for a grid) of the region the user is bound to
    region_name: str
    department: str | None
    capabilities: frozenset[str]
    totp_enabled: bool = False

    @property
    def scope_prefix(self) -> str:
        """Every region code in the user's subtree starts with this (the short code:
        37, 3701, 370102, 370102001, ...): `region_code LIKE scope_prefix || '%'`."""
        return short_code(self.region_code)

    def in_scope(self, region_code: str) -> bool:
        """True when `region_code` (short or full) is the user's region or below it."""
        return bool(region_code) and str(region_code).startswith(self.scope_prefix)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def totp_enrolment_required(self) -> bool:
        """An administrator without a confirmed second factor: signed in, but limited to
        setting it up (auth/deps.py) until confirmed."""
        return is_admin(self.role) and not self.totp_enabled

    def me(self) -> dict:
        role = Role(self.role)
        return {
            "username": self.username, "display_name": self.display_name, "role": role.value,
            "role_label": ROLE_LABELS[role], "region_code": self.region_code, "region_name": self.region_name,
            "department": self.department, "capabilities": sorted(self.capabilities),
            "totp_enabled": self.totp_enabled, "totp_enrolment_required": self.totp_enrolment_required,
        }
