"""The closed loop's policy file (`policy.yaml`): the routing table's seed, the fallback for grids
without a worker, and the dated deadline rules per task type. Pure: reads the file, validates it and
answers "which deadline applies to this task on this day"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from safetynet.auth.model import DEPARTMENTS
from safetynet.casework.model import TaskType
from safetynet.errors import SafetynetError
from safetynet.monitoring.catalogue import LEVELS, NEEDS

POLICY_FILE = Path(__file__).with_name("policy.yaml")
#: the platform's own department: its "push" is the township's field check, not a separate task
CIVIL_AFFAIRS = "civil_affairs"
ROUTING_DEPARTMENTS = (*DEPARTMENTS, CIVIL_AFFAIRS)
ROUTING_LEVELS = ("township", "county", "city")
FALLBACKS = ("township", "county")


class PolicyError(SafetynetError):
    """policy.yaml (or a routing change) breaks a rule; the message names the entry and what is valid."""


@dataclass(frozen=True)
class DeadlineRule:
    name: str
    source: str
    valid_from: dt.date
    task_type: str | None = None
    need: str | None = None
    min_level: str | None = None
    escalated: bool = False
    working_days: int | None = None
    hours: int | None = None

    def matches(self, *, task_type: str, need: str | None, level: str, escalated: bool, on: dt.date) -> bool:
        return (
            on >= self.valid_from
            and self.escalated == escalated
            and (self.task_type is None or self.task_type == task_type)
            and (self.need is None or self.need == need)
            and (self.min_level is None or LEVELS.index(level) >= LEVELS.index(self.min_level))
        )


@dataclass(frozen=True)
class Policy:
    routing: dict[str, tuple[str, str]]  # need → (department, level)
    routing_source: str
    routing_valid_from: dt.date
    grid_without_worker: str
    deadlines: tuple[DeadlineRule, ...]

    def deadline_rule(
        self, *, task_type: str, need: str | None, level: str, escalated: bool, on: dt.date
    ) -> DeadlineRule:
        for rule in self.deadlines:
            if rule.matches(task_type=task_type, need=need, level=level, escalated=escalated, on=on):
                return rule
        raise PolicyError(
            f"{POLICY_FILE.name}: no deadline rule applies to a {task_type} task (need {need}, "
            f"level {level}, escalated {escalated}) on {on}; add a catch-all rule for it"
        )


def check_routing(need: str, department: str, level: str) -> None:
    if need not in NEEDS:
        raise PolicyError(f"need must be one of {', '.join(NEEDS)}, got {need!r}")
    if department not in ROUTING_DEPARTMENTS:
        raise PolicyError(f"department must be one of {', '.join(ROUTING_DEPARTMENTS)}, got {department!r}")
    if level not in ROUTING_LEVELS:
        raise PolicyError(f"level must be one of {', '.join(ROUTING_LEVELS)}, got {level!r}")


def _deadline(i: int, raw: dict) -> DeadlineRule:
    where = f"{POLICY_FILE.name}: deadlines[{i}] ({raw.get('name', '?')})"
    known = {
        "name",
        "source",
        "valid_from",
        "task_type",
        "need",
        "min_level",
        "escalated",
        "working_days",
        "hours",
    }
    if set(raw) - known:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(set(raw) - known))}")
    if not raw.get("source") or not isinstance(raw.get("valid_from"), dt.date):
        raise PolicyError(f"{where}: needs a source and a valid_from date (YYYY-MM-DD)")
    if (raw.get("working_days") is None) == (raw.get("hours") is None):
        raise PolicyError(f"{where}: give exactly one of working_days or hours")
    for key in ("working_days", "hours"):
        if raw.get(key) is not None and (not isinstance(raw[key], int) or raw[key] < 1):
            raise PolicyError(f"{where}: {key} must be a whole number ≥ 1, got {raw[key]!r}")
    if raw.get("task_type") is not None and raw["task_type"] not in TaskType.__members__:
        raise PolicyError(f"{where}: task_type must be one of {', '.join(TaskType)}")
    if raw.get("need") is not None and raw["need"] not in NEEDS:
        raise PolicyError(f"{where}: need must be one of {', '.join(NEEDS)}")
    if raw.get("min_level") is not None and raw["min_level"] not in LEVELS:
        raise PolicyError(f"{where}: min_level must be one of {', '.join(LEVELS)}")
    return DeadlineRule(
        name=raw.get("name", f"rule {i}"),
        source=str(raw["source"]),
        valid_from=raw["valid_from"],
        task_type=raw.get("task_type"),
        need=raw.get("need"),
        min_level=raw.get("min_level"),
        escalated=bool(raw.get("escalated", False)),
        working_days=raw.get("working_days"),
        hours=raw.get("hours"),
    )


def parse_policy(raw: dict) -> Policy:
    routing_raw = raw.get("routing") or {}
    routing: dict[str, tuple[str, str]] = {}
    for need, entry in (routing_raw.get("needs") or {}).items():
        try:
            check_routing(need, entry.get("department"), entry.get("level"))
        except PolicyError as e:
            raise PolicyError(f"{POLICY_FILE.name}: routing.needs.{need}: {e}") from None
        routing[need] = (entry["department"], entry["level"])
    missing = set(NEEDS) - set(routing)
    if missing:
        raise PolicyError(
            f"{POLICY_FILE.name}: routing.needs lacks {', '.join(sorted(missing))}: every need of "
            "the warning catalogue must be routed"
        )
    fallback = (raw.get("fallback") or {}).get("grid_without_worker", "township")
    if fallback not in FALLBACKS:
        raise PolicyError(
            f"{POLICY_FILE.name}: fallback.grid_without_worker must be one of {', '.join(FALLBACKS)}"
        )
    deadlines = tuple(_deadline(i, d) for i, d in enumerate(raw.get("deadlines") or []))
    return Policy(
        routing=routing,
        routing_source=" ".join(str(routing_raw.get("source", "")).split()),
        routing_valid_from=routing_raw.get("valid_from") or dt.date(2024, 1, 1),
        grid_without_worker=fallback,
        deadlines=deadlines,
    )


@lru_cache(maxsize=1)
def load_policy(path: Path = POLICY_FILE) -> Policy:
    with open(path, encoding="utf-8") as f:
        return parse_policy(yaml.safe_load(f))
