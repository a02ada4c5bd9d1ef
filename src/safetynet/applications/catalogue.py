"""The matter catalogue (事项目录): which matters a household may apply for, who decides each, the
department responsible, whether a public notice precedes the decision and the time limit in working
days — every value with its source, time limits and the process limits as dated values. Kept as YAML
a province can edit (like the monitoring catalogue).

The packaged catalogue.yaml is the default; a province's own file is used instead when
SAFETYNET_APPLICATIONS_CATALOGUE names one or <data_dir>/applications/catalogue.yaml exists. Every
problem in a file is reported at once, naming the file, line, matter and field: the person fixing it
is a provincial officer with a text editor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetynet.errors import ConfigurationError, SafetynetError

PACKAGED = Path(__file__).with_name("catalogue.yaml")
ENV_VAR = "SAFETYNET_APPLICATIONS_CATALOGUE"

#: matter ids other systems rely on (docs/contracts/applications.md), with the tier each opens: a
#: province's catalogue keeps every one, and the tier it opens
FIXED_MATTERS: dict[str, str | None] = {
    "dibao": "dibao",
    "extremely_poor": "extremely_poor",
    "dibao_edge": "dibao_edge",
    "rigid_expenditure": "rigid_expenditure",
    "temporary_emergency": None,
    "temporary_expenditure": None,
    "medical_assistance": None,
    "education_assistance": None,
    "housing_assistance": None,
    "employment_assistance": None,
    "disaster_relief": None,
    "orphan_allowance": None,
    "disability_subsidies": None,
}
#: the register tiers an approval may open (docs/policy.md §2)
ENROL_TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure")
DECIDERS = {
    "township": {"zh": "乡镇", "en": "Township"},
    "county": {"zh": "县级民政", "en": "County civil affairs"},
    "department": {"zh": "职能部门", "en": "Department"},
}
PROCESS_KEYS = ("investigation_start_working_days", "notice_days", "refusal_notice_working_days")
TOP_KEYS = ("description", "process", "matters")  # plus "x-…" keys, free for YAML anchors
MATTER_KEYS = (
    "id",
    "name_zh",
    "name_en",
    "enrols",
    "decides",
    "department",
    "notice",
    "time_limit",
    "aid_first_hours",
)
REQUIRED_MATTER_KEYS = ("id", "name_zh", "name_en", "enrols", "decides", "department", "notice", "time_limit")
MATTER_ID = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    matter: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        if self.matter:
            where += f", matter {self.matter}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "matter": self.matter,
            "field": self.field,
            "reason": self.reason,
        }


class CatalogueError(SafetynetError):
    """A catalogue file cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "\n".join(f"  {p}" for p in self.problems[:30])
        more = f"\n  … and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
        return f"{len(self.problems)} problem(s) in the matter catalogue:\n{shown}{more}"


class UnknownMatter(SafetynetError):
    def __init__(self, matter: object, known: list[str]) -> None:
        self.field = "matter"
        self.message_zh = f"事项 {matter!r} 不在事项目录中"
        super().__init__(f"matter {matter!r} is not in the matter catalogue; one of: {', '.join(known)}")


class NotInForce(SafetynetError):
    """A dated value asked for has no value in force on the day."""


# --- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Valued:
    value: Any
    source: str

    def as_dict(self) -> dict:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Dated:
    since: dt.date
    until: dt.date | None  # inclusive; None: until replaced
    value: int
    source: str

    def in_force(self, on: dt.date) -> bool:
        return self.since <= on and (self.until is None or on <= self.until)

    def as_dict(self) -> dict:
        return {
            "from": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "value": self.value,
            "source": self.source,
        }


def _on(values: tuple[Dated, ...], day: dt.date, what: str) -> Dated:
    for v in reversed(values):
        if v.in_force(day):
            return v
    raise NotInForce(
        f"{what} has no value in force on {day.isoformat()} in the matter catalogue; add a "
        "dated entry that covers it"
    )


@dataclass(frozen=True)
class Matter:
    id: str
    name_zh: str
    name_en: str
    enrols: str | None
    decides: Valued
    department: Valued
    notice: Valued
    time_limit: tuple[Dated, ...]
    aid_first_hours: Valued | None = None

    @property
    def needs_notice(self) -> bool:
        return bool(self.notice.value)

    @property
    def aid_first(self) -> bool:
        return self.aid_first_hours is not None

    def limit_on(self, day: dt.date) -> Dated:
        """The time limit (working days) in force on `day`."""
        return _on(self.time_limit, day, f"the time limit of {self.id}")

    def as_dict(self, on: dt.date | None = None) -> dict:
        out = {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "enrols": self.enrols,
            "decides": self.decides.as_dict(),
            "decides_label": DECIDERS[self.decides.value],
            "department": self.department.as_dict(),
            "notice": self.notice.as_dict(),
            "aid_first_hours": self.aid_first_hours.as_dict() if self.aid_first_hours else None,
            "time_limit": [
                {"from": d["from"], "until": d["until"], "working_days": d["value"], "source": d["source"]}
                for d in (v.as_dict() for v in self.time_limit)
            ],
        }
        if on is not None:
            current = next((v for v in reversed(self.time_limit) if v.in_force(on)), None)
            out["working_days"] = current.value if current else None
        return out


@dataclass(frozen=True)
class Catalogue:
    path: Path
    description: str
    process: dict[str, tuple[Dated, ...]]
    matters: tuple[Matter, ...]

    def __iter__(self):  # noqa: ANN204
        return iter(self.matters)

    def __len__(self) -> int:
        return len(self.matters)

    def ids(self) -> list[str]:
        return [m.id for m in self.matters]

    def matter(self, matter_id: object) -> Matter:
        for m in self.matters:
            if m.id == matter_id:
                return m
        raise UnknownMatter(matter_id, self.ids())

    def process_on(self, name: str, day: dt.date) -> Dated:
        """A process limit (PROCESS_KEYS) in force on `day`."""
        return _on(self.process[name], day, f"process.{name}")

    def as_dict(self, on: dt.date | None = None) -> dict:
        out: dict[str, Any] = {
            "file": str(self.path),
            "digest": self.digest(),
            "description": self.description,
            "process": {k: [v.as_dict() for v in vs] for k, vs in self.process.items()},
            "matters": [m.as_dict(on) for m in self.matters],
        }
        if on is not None:
            out["on"] = on.isoformat()
            out["process_in_force"] = {
                k: next((v.value for v in reversed(vs) if v.in_force(on)), None)
                for k, vs in self.process.items()
            }
        return out

    def digest(self) -> str:
        content = {
            "description": self.description,
            "process": {k: [v.as_dict() for v in vs] for k, vs in self.process.items()},
            "matters": [m.as_dict() for m in self.matters],
        }
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- loading -----------------------------------------------------------------------------------


def catalogue_path() -> Path:
    """The catalogue in use: SAFETYNET_APPLICATIONS_CATALOGUE, else <data_dir>/applications/catalogue.yaml
    when present, else the packaged default."""
    named = os.environ.get(ENV_VAR, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigurationError(
                f"{ENV_VAR}={named} names no file; point it at a matter catalogue YAML "
                "(export one with `safetynet applications catalogue --export PATH`)"
            )
        return path
    from safetynet.config import get_settings

    local = get_settings().data_dir / "applications" / "catalogue.yaml"
    return local if local.is_file() else PACKAGED


_cache: dict[tuple[str, float], Catalogue] = {}


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check a catalogue (default: `catalogue_path()`); CatalogueError lists every problem.
    A file read once is kept while its modification time stays the same."""
    path = Path(path) if path is not None else catalogue_path()
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError as e:
        raise CatalogueError([Problem(str(path), None, None, None, f"cannot read the file: {e}")]) from None
    if key not in _cache:
        from safetynet.applications.catalogue_check import load

        _cache[key] = load(path)
    return _cache[key]
