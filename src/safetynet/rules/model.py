"""The assessment contract (docs/contracts/assess.md): plain dataclasses for the input, and its
validation. Unknown fields are errors; every problem names the field path
(`members[0].income_monthly.wage`) and says what valid input looks like. No I/O."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from safetynet.errors import SafetynetError
from safetynet.registry.model import RELATION_LABELS
from safetynet.rules.common import DISABILITY_CATEGORIES

RULES_FROM = dt.date(2021, 7, 1)  # the national rules encoded here (民发〔2021〕43号, 57号) apply from
MAX_MEMBERS = 100

TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure", "none")  # deepest first
REGISTRATIONS = ("urban", "rural")
SUPPORTERS = ("none", "unable", "able")
CARE_LEVELS = ("self_care", "partial", "full")
RELATIONS = tuple(RELATION_LABELS)
INCOME_ITEMS = ("wage", "business", "property", "transfer", "basic_pension", "assistance",
                "preferential_pension")
COUNTED_INCOME_ITEMS = INCOME_ITEMS[:4]
EXPENDITURE_ITEMS = ("medical", "education", "rehabilitation", "disaster", "living", "other")
CAR_TYPES = ("car", "motorcycle", "disability_vehicle", "truck", "van", "ship", "machinery", "other")

# local_policy JSON path → the rule variable it sets
LOCAL_POLICY_FIELDS: dict[str, str] = {
    "dibao_standard": "dibao_standard",
    "extremely_poor_basic_standard": "extremely_poor_basic_standard",
    "care_standard.self_care": "care_standard_self_care",
    "care_standard.partial": "care_standard_partial",
    "care_standard.full": "care_standard_full",
    "edge_multiplier": "edge_multiplier",
    "rigid_expenditure_ratio": "rigid_expenditure_ratio",
    "disposable_income_prev_year_monthly": "disposable_income_prev_year_monthly",
    "asset_limits.deposits_months_of_standard": "deposits_months_of_standard",
    "asset_limits.max_homes": "max_homes",
    "asset_limits.cars_allowed": "cars_allowed",
    "asset_limits.business_capital": "business_capital_limit",
    "edge_expenditure_type": "edge_expenditure_type",
}


class AssessInputError(SafetynetError):
    """The assessment input is invalid. `problems` lists (field path, what is wrong) pairs;
    `field` is the first one's path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.field = problems[0][0] if problems else None
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(f"{path}: {reason}" if path else reason for path, reason in self.problems)


@dataclass(frozen=True)
class Disability:
    category: str
    grade: int


@dataclass(frozen=True)
class IncomeMonthly:
    wage: float = 0.0
    business: float = 0.0
    property: float = 0.0
    transfer: float = 0.0
    basic_pension: float = 0.0
    assistance: float = 0.0
    preferential_pension: float = 0.0


@dataclass(frozen=True)
class Member:
    id: str
    birth_date: dt.date
    relation: str | None = None
    disability: Disability | None = None
    self_care_items_failed: int = 0
    student: bool = False
    in_prison: bool = False
    critical_illness: bool = False
    income_monthly: IncomeMonthly = field(default_factory=IncomeMonthly)
    supporter: str = "able"


@dataclass(frozen=True)
class Car:
    type: str
    price: float | None = None


@dataclass(frozen=True)
class Assets:
    deposits: float = 0.0
    homes: int = 0
    cars: tuple[Car, ...] = ()
    business_capital: float = 0.0


@dataclass(frozen=True)
class Expenditure12m:
    medical: float = 0.0
    education: float = 0.0
    rehabilitation: float = 0.0
    disaster: float = 0.0
    living: float = 0.0
    other: float = 0.0


@dataclass(frozen=True)
class LocalPolicy:
    """Local standards, each optional; attribute names are the rule variables they set."""

    dibao_standard: float | None = None
    extremely_poor_basic_standard: float | None = None
    care_standard_self_care: float | None = None
    care_standard_partial: float | None = None
    care_standard_full: float | None = None
    edge_multiplier: float | None = None
    rigid_expenditure_ratio: float | None = None
    disposable_income_prev_year_monthly: float | None = None
    deposits_months_of_standard: float | None = None
    max_homes: int | None = None
    cars_allowed: bool | None = None
    business_capital_limit: float | None = None
    edge_expenditure_type: bool | None = None

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def missing(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is None]


@dataclass(frozen=True)
class AssessInput:
    as_of: dt.date
    registration: str
    members: tuple[Member, ...]
    region: str | None = None
    local_policy: LocalPolicy = field(default_factory=LocalPolicy)
    assets: Assets = field(default_factory=Assets)
    expenditure_12m: Expenditure12m = field(default_factory=Expenditure12m)


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------

_MISSING = object()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"[:60]
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append((path, reason))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...] | list[str]) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object with fields {', '.join(allowed)}; got {_kind(value)}")
            return None
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.fail(where, f"unknown field; allowed here: {', '.join(allowed)}")
        return value

    def number(self, value: Any, path: str, *, minimum: float = 0.0, exclusive: bool = False,
               maximum: float | None = None) -> float | None:
        bound = f"> {minimum:g}" if exclusive else f"≥ {minimum:g}"
        if maximum is not None:
            bound += f" and ≤ {maximum:g}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"must be a number {bound}; got {_kind(value)}")
            return None
        if not math.isfinite(value) or value < minimum or (exclusive and value == minimum) or (
                maximum is not None and value > maximum):
            self.fail(path, f"must be a number {bound}; got {value}")
            return None
        return float(value)

    def integer(self, value: Any, path: str, *, minimum: int = 0, maximum: int | None = None) -> int | None:
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"≥ {minimum}"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be a whole number {bound}; got {_kind(value)}")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            self.fail(path, f"must be a whole number {bound}; got {value}")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false; got {_kind(value)}")
            return None
        return value

    def choice(self, value: Any, path: str, options: tuple[str, ...]) -> str | None:
        if not isinstance(value, str) or value not in options:
            self.fail(path, f"must be one of {', '.join(options)}; got {_kind(value)}")
            return None
        return value

    def date(self, value: Any, path: str) -> dt.date | None:
        if isinstance(value, str) and _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(path, f"must be a date written YYYY-MM-DD, e.g. 2025-07-01; got {_kind(value)}")
        return None


def _optional(data: dict, key: str) -> Any:
    return data.get(key, _MISSING)


def _read_money_block(r: _Reader, value: Any, path: str, items: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    data = r.obj(value, path, items)
    if data is None:
        return out
    for key in items:
        if key in data:
            amount = r.number(data[key], f"{path}.{key}")
            if amount is not None:
                out[key] = amount
    return out


def parse_local_policy(value: Any, path: str = "local_policy") -> LocalPolicy:
    """Validate a local_policy object (from the input or the standards store)."""
    r = _Reader()
    policy = _parse_local_policy(r, value, path)
    if r.problems:
        raise AssessInputError(r.problems)
    return policy


def _parse_local_policy(r: _Reader, value: Any, path: str) -> LocalPolicy:
    top = ("dibao_standard", "extremely_poor_basic_standard", "care_standard", "edge_multiplier",
           "rigid_expenditure_ratio", "disposable_income_prev_year_monthly", "asset_limits",
           "edge_expenditure_type")
    data = r.obj(value, path, top)
    if data is None:
        return LocalPolicy()
    out: dict[str, Any] = {}
    for key in ("dibao_standard", "extremely_poor_basic_standard", "disposable_income_prev_year_monthly"):
        if key in data:
            out[key] = r.number(data[key], f"{path}.{key}", exclusive=True)
    if "edge_multiplier" in data:
        out["edge_multiplier"] = r.number(data["edge_multiplier"], f"{path}.edge_multiplier", minimum=1,
                                          maximum=10)
    if "rigid_expenditure_ratio" in data:
        key = "rigid_expenditure_ratio"
        out[key] = r.number(data[key], f"{path}.{key}", exclusive=True, maximum=10)
    if "edge_expenditure_type" in data:
        out["edge_expenditure_type"] = r.boolean(data["edge_expenditure_type"],
                                                 f"{path}.edge_expenditure_type")
    if "care_standard" in data:
        for level, amount in _read_money_block(r, data["care_standard"], f"{path}.care_standard",
                                               CARE_LEVELS).items():
            out[f"care_standard_{level}"] = amount
    if "asset_limits" in data:
        sub = f"{path}.asset_limits"
        limits = r.obj(data["asset_limits"], sub,
                       ("deposits_months_of_standard", "max_homes", "cars_allowed", "business_capital"))
        if limits is not None:
            if "deposits_months_of_standard" in limits:
                out["deposits_months_of_standard"] = r.number(limits["deposits_months_of_standard"],
                                                              f"{sub}.deposits_months_of_standard")
            if "max_homes" in limits:
                out["max_homes"] = r.integer(limits["max_homes"], f"{sub}.max_homes")
            if "cars_allowed" in limits:
                out["cars_allowed"] = r.boolean(limits["cars_allowed"], f"{sub}.cars_allowed")
            if "business_capital" in limits:
                out["business_capital_limit"] = r.number(limits["business_capital"],
                                                         f"{sub}.business_capital")
    return LocalPolicy(**out)


def _parse_member(r: _Reader, value: Any, path: str, as_of: dt.date | None) -> Member | None:
    allowed = ("id", "birth_date", "relation", "disability", "self_care_items_failed", "student", "in_prison",
               "critical_illness", "income_monthly", "supporter")
    data = r.obj(value, path, allowed)
    if data is None:
        return None
    before = len(r.problems)
    member_id = data.get("id")
    if not isinstance(member_id, str) or not member_id.strip():
        r.fail(f"{path}.id", f"required: a non-empty string identifying the member; got {_kind(member_id)}")
    if "birth_date" not in data:
        r.fail(f"{path}.birth_date", "required: the date of birth, YYYY-MM-DD")
        birth = None
    else:
        birth = r.date(data["birth_date"], f"{path}.birth_date")
        if birth is not None and as_of is not None and birth > as_of:
            r.fail(f"{path}.birth_date",
                   f"must not be after as_of ({as_of.isoformat()}); got {birth.isoformat()}")
        elif birth is not None and birth.year < 1880:
            r.fail(f"{path}.birth_date", f"must be 1880-01-01 or later; got {birth.isoformat()}")
    kwargs: dict[str, Any] = {}
    if (v := _optional(data, "relation")) is not _MISSING and v is not None:
        kwargs["relation"] = r.choice(v, f"{path}.relation", RELATIONS)
    if (v := _optional(data, "disability")) is not _MISSING and v is not None:
        d = r.obj(v, f"{path}.disability", ("category", "grade"))
        if d is not None:
            cat = r.choice(d.get("category"), f"{path}.disability.category", tuple(DISABILITY_CATEGORIES))
            grade = r.integer(d.get("grade"), f"{path}.disability.grade", minimum=1, maximum=4)
            if cat is not None and grade is not None:
                kwargs["disability"] = Disability(cat, grade)
    if (v := _optional(data, "self_care_items_failed")) is not _MISSING:
        kwargs["self_care_items_failed"] = r.integer(v, f"{path}.self_care_items_failed", maximum=6)
    for flag in ("student", "in_prison", "critical_illness"):
        if (v := _optional(data, flag)) is not _MISSING:
            kwargs[flag] = r.boolean(v, f"{path}.{flag}")
    if (v := _optional(data, "income_monthly")) is not _MISSING:
        income = _read_money_block(r, v, f"{path}.income_monthly", INCOME_ITEMS)
        kwargs["income_monthly"] = IncomeMonthly(**income)
    if (v := _optional(data, "supporter")) is not _MISSING:
        kwargs["supporter"] = r.choice(v, f"{path}.supporter", SUPPORTERS)
    if len(r.problems) > before:
        return None
    return Member(id=member_id, birth_date=birth, **kwargs)  # type: ignore[arg-type]


def _parse_assets(r: _Reader, value: Any) -> Assets:
    data = r.obj(value, "assets", ("deposits", "homes", "cars", "business_capital"))
    if data is None:
        return Assets()
    kwargs: dict[str, Any] = {}
    for key in ("deposits", "business_capital"):
        if key in data:
            kwargs[key] = r.number(data[key], f"assets.{key}")
    if "homes" in data:
        kwargs["homes"] = r.integer(data["homes"], "assets.homes")
    if "cars" in data:
        cars = data["cars"]
        if not isinstance(cars, list):
            r.fail("assets.cars", f'must be a list of {{"type": …, "price": yuan}}; got {_kind(cars)}')
        else:
            parsed = []
            for i, car in enumerate(cars):
                path = f"assets.cars[{i}]"
                c = r.obj(car, path, ("type", "price"))
                if c is None:
                    continue
                kind = r.choice(c.get("type"), f"{path}.type", CAR_TYPES)
                price = r.number(c["price"], f"{path}.price") if "price" in c else None
                if kind is not None:
                    parsed.append(Car(kind, price))
            kwargs["cars"] = tuple(parsed)
    return Assets(**{k: v for k, v in kwargs.items() if v is not None})


def parse_assess_input(payload: Any) -> AssessInput:
    """Validate the JSON input of an assessment; raise AssessInputError naming every bad field."""
    r = _Reader()
    top = ("as_of", "region", "registration", "local_policy", "members", "assets", "expenditure_12m",
           "edge_expenditure_type")
    data = r.obj(payload, "", top)
    if data is None:
        raise AssessInputError([("", "the input must be a JSON object with as_of, registration and members")])
    as_of = None
    if "as_of" not in data:
        r.fail("as_of", "required: the assessment date, YYYY-MM-DD")
    else:
        as_of = r.date(data["as_of"], "as_of")
        if as_of is not None and not RULES_FROM <= as_of <= dt.date(2100, 12, 31):
            r.fail("as_of", f"must be from {RULES_FROM.isoformat()} (when the encoded national rules took "
                            f"effect) to 2100-12-31; got {as_of.isoformat()}")
            as_of = None
    region = None
    if (v := _optional(data, "region")) is not _MISSING and v is not None:
        if isinstance(v, str) and re.fullmatch(r"\d{6}|\d{9}|\d{12}", v):
            region = v
        else:
            r.fail("region", "must be an administrative code of 6, 9 or 12 digits, e.g. 370402; "
                             f"got {_kind(v)}")
    registration = None
    if "registration" not in data:
        r.fail("registration", "required: urban or rural")
    else:
        registration = r.choice(data["registration"], "registration", REGISTRATIONS)
    policy = LocalPolicy()
    if (v := _optional(data, "local_policy")) is not _MISSING and v is not None:
        policy = _parse_local_policy(r, v, "local_policy")
    if (v := _optional(data, "edge_expenditure_type")) is not _MISSING:
        flag = r.boolean(v, "edge_expenditure_type")
        if flag is not None and policy.edge_expenditure_type is None:
            policy = LocalPolicy(**{**policy.given(), "edge_expenditure_type": flag})
    members: list[Member] = []
    raw_members = data.get("members", _MISSING)
    if raw_members is _MISSING:
        r.fail("members", "required: a list of at least one member")
    elif not isinstance(raw_members, list) or not raw_members:
        r.fail("members", f"must be a non-empty list of members; got {_kind(raw_members)}")
    elif len(raw_members) > MAX_MEMBERS:
        r.fail("members", f"at most {MAX_MEMBERS} members in one household; got {len(raw_members)}")
    else:
        seen: set[str] = set()
        for i, raw in enumerate(raw_members):
            m = _parse_member(r, raw, f"members[{i}]", as_of)
            if m is None:
                continue
            if m.id in seen:
                r.fail(f"members[{i}].id", f"duplicate member id {m.id!r}; each member needs its own id")
            seen.add(m.id)
            members.append(m)
    assets = _parse_assets(r, data["assets"]) if "assets" in data else Assets()
    expenditure = Expenditure12m()
    if "expenditure_12m" in data:
        expenditure = Expenditure12m(**_read_money_block(r, data["expenditure_12m"], "expenditure_12m",
                                                         EXPENDITURE_ITEMS))
    if r.problems:
        raise AssessInputError(r.problems)
    return AssessInput(as_of=as_of, registration=registration, members=tuple(members),  # type: ignore[arg-type]
                       region=region, local_policy=policy, assets=assets, expenditure_12m=expenditure)


def merge_policy(first: LocalPolicy, then: LocalPolicy) -> LocalPolicy:
    """Field by field: `first` where given, else `then`."""
    return LocalPolicy(**{**then.given(), **first.given()})


def policy_sources(given: LocalPolicy, looked_up: LocalPolicy) -> dict[str, str]:
    """Where each local value came from: input, store or default (the dated parameters)."""
    out = {}
    for path, var in LOCAL_POLICY_FIELDS.items():
        if getattr(given, var) is not None:
            out[path] = "input"
        elif getattr(looked_up, var) is not None:
            out[path] = "store"
        else:
            out[path] = "default"
    return out
