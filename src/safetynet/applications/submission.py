"""The submission (申请), checked completely before anything is written: the contract's JSON for a household
in the register, or a new household with its members (docs/contracts/registry.md's columns). Every bad
field is named with what valid looks like (`members[1].id_number: check digit is 3, should be 7`). Pure:
no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from safetynet import identity
from safetynet.applications.model import ApplicationError, Channel
from safetynet.registry.model import REGISTRATION_LABELS, RELATION_LABELS, SEX_LABELS

SUBMISSION_KEYS = (
    "matter",
    "household_id",
    "applicant_id_number",
    "submitted_on",
    "channel",
    "warning_id",
    "task_id",
    "members",
    "household",
)
REQUIRED_KEYS = ("matter", "household_id", "applicant_id_number", "submitted_on", "channel")
HOUSEHOLD_KEYS = ("region", "registration", "address", "grid", "phone")
MEMBER_KEYS = ("id_number", "name", "sex", "birth_date", "relation")
MAX_MEMBERS = 30


@dataclass
class Submission:
    matter: str
    household_no: str
    applicant_id_number: str
    submitted_on: dt.date
    channel: str
    warning_id: int | None = None
    task_id: int | None = None
    household: dict | None = None  # a new household: region_code, registration, address, grid_code, phone
    members: list[dict] = field(default_factory=list)  # a new household's members (registry rows)


class SubmissionError(ApplicationError):
    """Every problem of a submission at once: [(field, message)], the first named as the field."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = problems
        where = f"{source}: " if source else ""
        text = "; ".join(f"{f}: {m}" for f, m in problems)
        super().__init__(
            422,
            "invalid",
            f"{where}{text}",
            f"{where}申请内容有误（{'、'.join(f for f, _ in problems[:5])}）：{problems[0][1]}",
            problems[0][0],
        )


def _date(value: object) -> dt.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _int_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**62:
        return value
    return None


def parse_submission(
    payload: Any, *, today: dt.date, matters: list[str], source: str | None = None
) -> Submission:
    """Check a submission (the contract's JSON) completely: SubmissionError names every bad field
    (`members[1].id_number: check digit is 3, should be 7`) and what valid looks like."""
    if not isinstance(payload, dict):
        raise SubmissionError(
            [
                (
                    "(body)",
                    "the submission must be a JSON object with matter, household_id, "
                    "applicant_id_number, submitted_on, channel",
                )
            ],
            source,
        )
    p: list[tuple[str, str]] = []
    for key in payload:
        if key not in SUBMISSION_KEYS:
            p.append((str(key), f"unknown field; allowed: {', '.join(SUBMISSION_KEYS)}"))
    for key in REQUIRED_KEYS:
        if payload.get(key) in (None, ""):
            p.append((key, "required"))
    matter = payload.get("matter")
    if matter not in (None, "") and matter not in matters:
        p.append(("matter", f"{matter!r} is not a matter of the catalogue; one of: {', '.join(matters)}"))
    household_no = payload.get("household_id")
    if household_no not in (None, "") and (
        not isinstance(household_no, str) or len(household_no.strip()) > 64 or not household_no.strip()
    ):
        p.append(("household_id", "the register's household number: a text of 1–64 characters"))
    applicant = payload.get("applicant_id_number")
    number = None
    if applicant not in (None, ""):
        number, why = _id_number(applicant, today)
        if why:
            p.append(("applicant_id_number", why))
    raw_on = payload.get("submitted_on")
    submitted_on = _date(raw_on)
    if raw_on not in (None, "") and submitted_on is None:
        p.append(("submitted_on", f"{raw_on!r} is not a date; use YYYY-MM-DD"))
    elif submitted_on is not None and submitted_on > today:
        p.append(
            ("submitted_on", f"{submitted_on.isoformat()} is in the future (today is {today.isoformat()})")
        )
    channel = payload.get("channel")
    if channel not in (None, "") and channel not in Channel.__members__:
        p.append(("channel", f"{channel!r}: one of {', '.join(Channel)}"))
    warning_id, task_id = payload.get("warning_id"), payload.get("task_id")
    for key, value in (("warning_id", warning_id), ("task_id", task_id)):
        if value is not None and _int_id(value) is None:
            p.append((key, "a warning's (task's) number: a whole number ≥ 1"))
    if channel == Channel.warning and warning_id is None:
        p.append(("warning_id", "an application from a warning names the warning (channel warning)"))
    if channel in Channel.__members__ and channel != Channel.warning and (warning_id or task_id):
        p.append(("channel", "an application linked to a warning or task comes through channel warning"))
    household, members = None, []
    if "members" in payload or "household" in payload:
        household, members = _new_household(payload, today, p)
        if number and members and number not in {m["id_number"] for m in members}:
            p.append(("applicant_id_number", "the applicant must be one of the members"))
    if p:
        raise SubmissionError(p, source)
    return Submission(
        matter=matter,
        household_no=household_no.strip(),
        applicant_id_number=number,
        submitted_on=submitted_on,
        channel=channel,
        warning_id=warning_id,
        task_id=task_id,
        household=household,
        members=members,
    )


def _id_number(value: object, today: dt.date) -> tuple[str | None, str | None]:
    if not isinstance(value, str):
        return None, "an 18-character resident identity number (text)"
    try:
        return identity.parse(value, today=today).number, None
    except identity.InvalidIdNumber as e:
        return None, f"{identity.mask_id_number(identity.normalize(value))}: {e}"


def _new_household(payload: dict, today: dt.date, p: list[tuple[str, str]]) -> tuple[dict | None, list[dict]]:
    """A household not yet in the register: `household` as the registry contract's households columns
    and `members` as its persons columns (docs/contracts/registry.md)."""
    h, raw_members = payload.get("household"), payload.get("members")
    household = None
    if not isinstance(h, dict):
        p.append(
            (
                "household",
                "a new household (members given) needs household: {region, registration, "
                "address?, grid?, phone?}",
            )
        )
    else:
        for key in h:
            if key not in HOUSEHOLD_KEYS:
                p.append((f"household.{key}", f"unknown field; allowed: {', '.join(HOUSEHOLD_KEYS)}"))
        region, reg = h.get("region"), h.get("registration")
        if not (isinstance(region, str) and len(region) == 12 and region.isdigit()):
            p.append(
                (
                    "household.region",
                    f"{region!r}: the 12-digit code of the village or community, e.g. 370402001001",
                )
            )
        if reg not in REGISTRATION_LABELS:
            p.append(("household.registration", f"{reg!r}: urban or rural"))
        grid, phone, address = h.get("grid"), h.get("phone"), h.get("address")
        if grid not in (None, "") and not (isinstance(grid, str) and grid.isdigit() and 1 <= len(grid) <= 2):
            p.append(("household.grid", f"{grid!r}: the grid's number within the community (1–2 digits)"))
        if phone not in (None, "") and not (
            isinstance(phone, str) and 5 <= len(phone) <= 20 and all(c.isdigit() or c in "+- " for c in phone)
        ):
            p.append(("household.phone", f"{phone!r}: a phone number (5–20 digits, +, -)"))
        if address is not None and (not isinstance(address, str) or len(address) > 200):
            p.append(("household.address", "a text of at most 200 characters"))
        if isinstance(region, str) and reg in REGISTRATION_LABELS:
            household = {
                "region_code": region,
                "registration": reg,
                "address": address or None,
                "grid_code": f"{region}{int(grid):02d}" if isinstance(grid, str) and grid.isdigit() else None,
                "phone": phone or None,
            }
    if not isinstance(raw_members, list) or not raw_members:
        p.append(
            (
                "members",
                f"a new household lists its members (1 to {MAX_MEMBERS}), each "
                "{id_number, name, relation, sex?, birth_date?}",
            )
        )
        return household, []
    if len(raw_members) > MAX_MEMBERS:
        p.append(("members", f"at most {MAX_MEMBERS} members"))
        return household, []
    members, seen = [], set()
    for i, m in enumerate(raw_members):
        member = _member(i, m, today, p)
        if member is None:
            continue
        if member["id_number"] in seen:
            p.append((f"members[{i}].id_number", "appears twice; a person is listed once"))
            continue
        seen.add(member["id_number"])
        members.append(member)
    heads = [m for m in members if m["relation"] == "head"]
    if len(members) == len(raw_members) and len(heads) != 1:
        p.append(("members", f"exactly one member is the head (relation head, 户主); found {len(heads)}"))
    return household, members


def _member(i: int, m: object, today: dt.date, p: list[tuple[str, str]]) -> dict | None:
    where = f"members[{i}]"
    if not isinstance(m, dict):
        p.append((where, "a member is an object {id_number, name, relation, sex?, birth_date?}"))
        return None
    before = len(p)
    for key in m:
        if key not in MEMBER_KEYS:
            p.append((f"{where}.{key}", f"unknown field; allowed: {', '.join(MEMBER_KEYS)}"))
    number, why = (
        _id_number(m.get("id_number"), today)
        if m.get("id_number") not in (None, "")
        else (None, "required: the 18-character resident identity number")
    )
    if why:
        p.append((f"{where}.id_number", why))
    name = m.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        p.append((f"{where}.name", "required: the name, 1–64 characters"))
    relation = m.get("relation")
    if relation not in RELATION_LABELS:
        p.append((f"{where}.relation", f"{relation!r}: one of {', '.join(RELATION_LABELS)}"))
    parsed = identity.parse(number, today=today) if number else None
    sex, birth = m.get("sex"), m.get("birth_date")
    if sex not in (None, "") and sex not in SEX_LABELS:
        p.append((f"{where}.sex", f"{sex!r}: M or F"))
    elif sex and parsed and sex != parsed.sex:
        p.append((f"{where}.sex", f"{sex} disagrees with the id number (its 17th digit says {parsed.sex})"))
    if birth not in (None, ""):
        day = _date(birth)
        if day is None:
            p.append((f"{where}.birth_date", f"{birth!r} is not a date; use YYYY-MM-DD"))
        elif parsed and day != parsed.birth_date:
            p.append(
                (
                    f"{where}.birth_date",
                    f"{day.isoformat()} disagrees with the id number ({parsed.birth_date.isoformat()})",
                )
            )
    if len(p) > before or parsed is None:
        return None
    return {
        "id_number": parsed.number,
        "name": name.strip(),
        "sex": parsed.sex,
        "birth_date": parsed.birth_date,
        "relation": relation,
    }
