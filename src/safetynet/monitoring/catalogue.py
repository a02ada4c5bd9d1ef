"""The monitoring rule catalogue (issue 5): which warnings exist, whom they watch, their levels,
suppression windows and dated thresholds, kept as YAML a province can edit.

The packaged catalogue.yaml is the default; a province's own file is used instead when
SAFETYNET_MONITORING_CATALOGUE names one or <data_dir>/monitoring/catalogue.yaml exists.
Every problem in a file is reported at once, naming the file, line, rule and field, because the
person fixing it is a provincial data officer with a text editor, not a developer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from safetynet import yamlfile
from safetynet.errors import ConfigurationError, SafetynetError
from safetynet.feeds.model import FEED_BY_NAME

PACKAGED = Path(__file__).with_name("catalogue.yaml")
ENV_VAR = "SAFETYNET_MONITORING_CATALOGUE"

#: Rule ids other systems rely on (docs/contracts/warnings.md): a catalogue must keep all of them.
FIXED_RULE_IDS = (
    "medical_oop_large", "income_drop", "new_disability", "earner_death", "recipient_death",
    "new_unemployment", "education_cost", "disaster_loss", "hotline_help", "anti_relapse",
    "income_above_line", "asset_car", "asset_property", "asset_business", "duplicate_enrolment",
    "cadre_relative",
)
LEVELS = ("blue", "yellow", "orange", "red")  # ascending severity
LEVEL_LABELS = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}
#: need → the department a warning is pushed to (docs/policy.md §5 classified push).
NEEDS = {
    "medical": "医疗保障局 medical insurance bureau",
    "education": "教育局 education bureau",
    "employment": "人力资源和社会保障局 human resources & social security",
    "housing": "住房和城乡建设局 housing and urban-rural development",
    "disaster": "应急管理局 emergency management",
    "basic_living": "民政局 civil affairs",
    "integrity": "民政局 civil affairs (exit review)",
}
NEED_LABELS = {"medical": "医疗", "education": "教育", "employment": "就业", "housing": "住房",
               "disaster": "受灾", "basic_living": "基本生活", "integrity": "资格核查"}
SIDES = {"entry": "新增风险", "exit": "退出核查"}
ENROLLED_TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure")
REGISTER_TIERS = (*ENROLLED_TIERS, "anti_relapse", "other_concern", "none")
#: population words → the registry tiers they cover; "anyone" also takes people only the feeds know
#: (department data is how new people in need are found), marked by the pseudo-tier "unregistered".
POPULATIONS = {
    **{t: (t,) for t in REGISTER_TIERS if t != "none"},
    "enrolled": ENROLLED_TIERS,
    "registered": REGISTER_TIERS,
    "anyone": (*REGISTER_TIERS, "unregistered"),
}
POPULATION_LABELS = {"extremely_poor": "特困", "dibao": "低保", "dibao_edge": "低保边缘",
                     "rigid_expenditure": "刚性支出困难", "anti_relapse": "防返贫监测",
                     "other_concern": "其他关注", "enrolled": "救助对象", "registered": "名册全员",
                     "anyone": "名册内外"}
#: evidence sources: the feeds of docs/contracts/feeds.md, the register itself and the batch assessment
EVIDENCE = (*FEED_BY_NAME, "registry", "assessment")
#: parameter units and what `Rule.value` returns for them
UNITS = {
    "ratio": "a number ≥ 0, e.g. 0.3 (returned as Decimal)",
    "yuan": 'money in yuan as a quoted string with at most 2 decimals, e.g. "50000.00" (returned as fen)',
    "months": "a whole number ≥ 0", "years": "a whole number ≥ 0", "days": "a whole number ≥ 0",
    "count": "a whole number ≥ 0",
    "text": "a non-empty text",
    "list": "a list of texts, e.g. [car, truck]",
}
NUMERIC_UNITS = ("ratio", "yuan", "months", "years", "days", "count")
RULE_KEYS = ("id", "name_zh", "name_en", "description", "population", "need", "side", "level", "levels",
             "indicator", "evidence", "suppression_months", "parameters")
REQUIRED_RULE_KEYS = ("id", "name_zh", "name_en", "population", "need", "side", "indicator", "evidence",
                      "suppression_months", "parameters")
PARAMETER_KEYS = ("unit", "description", "values")
VALUE_KEYS = ("from", "until", "value", "source")
TOP_KEYS = ("description", "rules")  # plus "x-…" keys, free for YAML anchors
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_YUAN = re.compile(r"^\d{1,12}(\.\d{1,2})?$")

Value = Decimal | int | str | tuple[str, ...]


# --- errors ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    rule: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        if self.rule:
            where += f", rule {self.rule}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "rule": self.rule, "field": self.field,
                "reason": self.reason}


class CatalogueError(SafetynetError):
    """A catalogue file cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "\n".join(f"  {p}" for p in self.problems[:30])
        more = f"\n  … and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
        return f"{len(self.problems)} problem(s) in the monitoring catalogue:\n{shown}{more}"


class ParameterError(SafetynetError):
    """A parameter asked for does not exist, or has no value in force on the date."""


# --- the catalogue as values -------------------------------------------------------------------

@dataclass(frozen=True)
class DatedValue:
    since: dt.date
    until: dt.date | None  # inclusive; None = until replaced
    value: Value
    source: str

    def in_force(self, on: dt.date) -> bool:
        return self.since <= on and (self.until is None or on <= self.until)


@dataclass(frozen=True)
class Parameter:
    name: str
    unit: str
    description: str
    values: tuple[DatedValue, ...]  # ascending by `since`, not overlapping

    def on(self, day: dt.date) -> DatedValue | None:
        """The dated value in force on `day`: the latest that started on or before it."""
        current = None
        for v in self.values:
            if v.since <= day:
                current = v
        return current if current is not None and current.in_force(day) else None


@dataclass(frozen=True)
class Level:
    level: str
    when: str  # parameter holding the threshold: the indicator reaching it gives this level


@dataclass(frozen=True)
class Rule:
    id: str
    name_zh: str
    name_en: str
    description: str
    population: tuple[str, ...]
    need: str
    side: str
    level: str | None  # a single level, or None when graded by `levels`
    levels: tuple[Level, ...]
    indicator: tuple[str, ...]
    evidence: tuple[str, ...]
    suppression_months: int
    parameters: tuple[Parameter, ...]
    file: str = field(default="", compare=False)

    @property
    def tiers(self) -> frozenset[str]:
        """The registry tiers watched ("unregistered" = people only the feeds know)."""
        return frozenset(t for p in self.population for t in POPULATIONS[p])

    @property
    def pushed_to(self) -> str:
        return NEEDS[self.need]

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise ParameterError(f"{self.file}: rule {self.id} has no parameter {name!r} (it has: {known})")

    def value(self, name: str, on: dt.date) -> Value:
        """The value of parameter `name` in force on `on`: Decimal for ratios, int fen for yuan,
        int for months/years/days/count, str for text, tuple of str for lists."""
        param = self.parameter(name)
        found = param.on(on)
        if found is None:
            periods = "; ".join(f"{v.since}–{v.until or 'open'}" for v in param.values)
            raise ParameterError(f"{self.file}: rule {self.id}, parameter {name}: no value in force on "
                                 f"{on.isoformat()} (dated values: {periods})")
        return found.value

    def values_on(self, on: dt.date) -> dict[str, Value | None]:
        """Every parameter's value in force on `on` (None where none is)."""
        out: dict[str, Value | None] = {}
        for p in self.parameters:
            found = p.on(on)
            out[p.name] = None if found is None else found.value
        return out

    def thresholds(self, on: dt.date) -> list[tuple[str, Value]]:
        """(level, threshold) of a graded rule on `on`, ascending severity."""
        return [(lv.level, self.value(lv.when, on)) for lv in self.levels]

    def level_for(self, indicator: Decimal | int, on: dt.date) -> str | None:
        """The level an indicator value earns on `on`: the most severe threshold it reaches, or the
        rule's single level; None when it reaches no threshold of a graded rule."""
        if not self.levels:
            return self.level
        earned = None
        for level, threshold in self.thresholds(on):
            if indicator >= threshold:  # type: ignore[operator]
                earned = level
        return earned

    def as_dict(self, on: dt.date | None = None) -> dict[str, Any]:
        """JSON-ready. With `on`: each parameter's value in force then; without: all dated values."""
        out: dict[str, Any] = {
            "id": self.id, "name_zh": self.name_zh, "name_en": self.name_en, "description": self.description,
            "population": list(self.population), "need": self.need, "pushed_to": self.pushed_to,
            "side": self.side, "level": self.level,
            "levels": [{"level": lv.level, "when": lv.when} for lv in self.levels],
            "indicator": list(self.indicator), "evidence": list(self.evidence),
            "suppression_months": self.suppression_months,
        }
        params: dict[str, Any] = {}
        for p in self.parameters:
            if on is None:
                params[p.name] = {"unit": p.unit, "description": p.description, "values": [
                    {"from": v.since.isoformat(), "until": v.until.isoformat() if v.until else None,
                     "value": json_value(v.value), "source": v.source} for v in p.values]}
            else:
                found = p.on(on)
                params[p.name] = {"unit": p.unit, "value": None if found is None else json_value(found.value),
                                  "from": None if found is None else found.since.isoformat(),
                                  "source": None if found is None else found.source}
        out["parameters"] = params
        return out


def json_value(value: Value) -> Any:
    """Decimal → exact string, tuple → list; fen and counts stay ints."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class Catalogue:
    path: Path
    description: str
    rules: tuple[Rule, ...]  # in file order

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        known = ", ".join(r.id for r in self.rules)
        raise ParameterError(f"{self.path}: no rule {rule_id!r}; rules: {known}")

    def digest(self) -> str:
        """sha256 of the normalised content (not the text: comments and layout do not count), so a
        monitor run records exactly which rules and values it used."""
        content = {"description": self.description, "rules": [r.as_dict() for r in self.rules]}
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- loading -----------------------------------------------------------------------------------

def catalogue_path() -> Path:
    """The catalogue in use: SAFETYNET_MONITORING_CATALOGUE, else <data_dir>/monitoring/catalogue.yaml
    when present, else the packaged default."""
    named = os.environ.get(ENV_VAR, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigurationError(f"{ENV_VAR}={named} names no file; point it at a catalogue YAML "
                                     "(export one with `safetynet monitor catalogue --export PATH`)")
        return path
    from safetynet.config import get_settings

    local = get_settings().data_dir / "monitoring" / "catalogue.yaml"
    return local if local.is_file() else PACKAGED


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check a catalogue (default: `catalogue_path()`); CatalogueError lists every problem."""
    path = Path(path) if path is not None else catalogue_path()
    try:
        raw = yamlfile.read(path)
    except yamlfile.ReadProblem as e:
        raise CatalogueError([Problem(str(path), e.line, None, e.key, e.reason)]) from None
    return _Checker(str(path)).catalogue(raw, path)


class _Checker:
    """Turns the parsed YAML into a Catalogue, collecting problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, where: object, rule: str | None, fld: str | None, reason: str) -> None:
        self.problems.append(Problem(self.file, yamlfile.line_of(where), rule, fld, reason))

    def catalogue(self, raw: object, path: Path) -> Catalogue:
        if not isinstance(raw, dict):
            self.bad(raw, None, None, "the file must be a mapping with a `rules:` list")
            raise CatalogueError(self.problems)
        for key in raw:
            if key not in TOP_KEYS and not str(key).startswith("x-"):
                self.bad(raw, None, str(key), f"unknown top-level key; allowed: {', '.join(TOP_KEYS)} "
                                              "(and x-… for YAML anchors)")
        items = raw.get("rules")
        if not isinstance(items, list) or not items:
            self.bad(raw, None, "rules", "missing or empty: give a list of rules")
            raise CatalogueError(self.problems)
        rules: list[Rule] = []
        seen: set[str] = set()
        for i, item in enumerate(items, 1):
            rule = self.rule(item, i)
            if rule is None:
                continue
            if rule.id in seen:
                self.bad(item, rule.id, "id", "duplicate rule id: each id may appear once")
                continue
            seen.add(rule.id)
            rules.append(rule)
        named = {str(item.get("id")) for item in items if isinstance(item, dict)}
        for fixed in FIXED_RULE_IDS:
            if fixed not in named:
                self.bad(raw, fixed, "id", "a fixed rule (docs/contracts/warnings.md) is missing: keep "
                                           f"all of {', '.join(FIXED_RULE_IDS)}; change their values, not "
                                           "their ids")
        if self.problems:
            raise CatalogueError(self.problems)
        return Catalogue(path=path, description=str(raw.get("description") or ""), rules=tuple(rules))

    # -- one rule ----------------------------------------------------------------------------

    def rule(self, item: object, position: int) -> Rule | None:
        if not isinstance(item, dict):
            self.bad(item, f"#{position}", None,
                     "a rule must be a mapping of id, name_zh, … (see the header)")
            return None
        rid = item.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            self.bad(item, f"#{position}", "id", f"{rid!r} is not a rule id: lower-case letters, digits and "
                                                 "_ starting with a letter, e.g. medical_oop_large")
            rid = f"#{position}"
        before = len(self.problems)
        for key in item:
            if key not in RULE_KEYS:
                self.bad(item, rid, str(key), f"unknown key; allowed: {', '.join(RULE_KEYS)}")
        for key in REQUIRED_RULE_KEYS:
            if key not in item:
                self.bad(item, rid, key, "missing")
        names = {k: self.text(item, rid, k) for k in ("name_zh", "name_en", "description")}
        population = self.words(item, rid, "population", POPULATIONS)
        need = self.choice(item, rid, "need", NEEDS)
        side = self.choice(item, rid, "side", SIDES)
        if side == "exit" and need not in (None, "integrity"):
            self.bad(item, rid, "need", "an exit rule (payments to stop or review) has need: integrity")
        indicator = self.names(item, rid, "indicator")
        evidence = self.words(item, rid, "evidence", EVIDENCE)
        suppression = item.get("suppression_months")
        if "suppression_months" in item and (type(suppression) is not int or suppression < 0):
            self.bad(item, rid, "suppression_months", f"{suppression!r} is not a whole number of months ≥ 0")
        params = self.parameters(item.get("parameters"), item, rid)
        level, levels = self.levels(item, rid, {p.name: p for p in params})
        if len(self.problems) > before:
            return None
        return Rule(id=rid, name_zh=names["name_zh"], name_en=names["name_en"],
                    description=names["description"], population=population, need=need, side=side,
                    level=level, levels=levels, indicator=indicator, evidence=evidence,
                    suppression_months=suppression, parameters=params, file=self.file)

    def text(self, item: dict, rid: str, key: str) -> str:
        """A present text field; a missing required one is reported with the other missing keys."""
        if key not in item:
            return ""
        value = item[key]
        if not isinstance(value, str) or not value.strip():
            self.bad(item, rid, key, "must be a non-empty text")
            return ""
        return value.strip()

    def choice(self, item: dict, rid: str, key: str, allowed: dict) -> str:
        value = item.get(key)
        if key in item and (not isinstance(value, str) or value not in allowed):
            self.bad(item, rid, key, f"unknown {key} {value!r}; use one of {', '.join(allowed)}")
        return value

    def words(self, item: dict, rid: str, key: str, allowed) -> tuple[str, ...]:  # noqa: ANN001
        value = item.get(key)
        if key not in item:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.bad(item, rid, key, f"give a non-empty list, e.g. [{next(iter(allowed))}]")
            return ()
        for v in value:
            if not isinstance(v, str) or v not in allowed:
                self.bad(item, rid, key, f"unknown {key} {v!r}; use any of {', '.join(allowed)}")
        return tuple(value)

    def names(self, item: dict, rid: str, key: str) -> tuple[str, ...]:
        value = item.get(key)
        if key not in item:
            return ()
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and _ID.match(v)
                                                               for v in value):
            self.bad(item, rid, key, "give an indicator name or a list of them (lower_case_with_underscores)")
            return ()
        return tuple(value)

    def levels(self, item: dict, rid: str,
               params: dict[str, Parameter]) -> tuple[str | None, tuple[Level, ...]]:
        has_level, has_levels = "level" in item, "levels" in item
        if has_level == has_levels:
            self.bad(item, rid, "level", "give either `level` (one of blue, yellow, orange, red) or "
                                         "a `levels` list of {level, when: <parameter>}, not both or neither")
            return None, ()
        if has_level:
            if item["level"] not in LEVELS:
                self.bad(item, rid, "level",
                         f"unknown level {item['level']!r}; use one of {', '.join(LEVELS)}")
            return item["level"], ()
        raw = item["levels"]
        if not isinstance(raw, list) or not raw:
            self.bad(item, rid, "levels", "give a non-empty list of {level, when: <parameter name>}")
            return None, ()
        out: list[Level] = []
        for entry in raw:
            if not isinstance(entry, dict) or set(entry) != {"level", "when"}:
                self.bad(entry if isinstance(entry, dict) else item, rid, "levels",
                         f"{entry!r}: each entry is exactly {{level: …, when: <parameter name>}}")
                continue
            if entry["level"] not in LEVELS:
                self.bad(entry, rid, "levels.level", f"unknown level {entry['level']!r}; use one of "
                                                     f"{', '.join(LEVELS)}")
                continue
            param = params.get(entry["when"]) if isinstance(entry["when"], str) else None
            if param is None:
                self.bad(entry, rid, "levels.when",
                         f"{entry['when']!r} is not a parameter of this rule; define it under parameters "
                         f"(defined: {', '.join(params) or 'none'})")
                continue
            if param.unit not in NUMERIC_UNITS:
                self.bad(entry, rid, "levels.when",
                         f"threshold {param.name} has unit {param.unit}; a threshold needs a number unit "
                         f"({', '.join(NUMERIC_UNITS)})")
                continue
            out.append(Level(entry["level"], entry["when"]))
        ranks = [LEVELS.index(lv.level) for lv in out]
        if ranks != sorted(set(ranks)):
            self.bad(item, rid, "levels", "list each level once, from least to most severe (blue, yellow, "
                                          "orange, red)")
        elif len(out) == len(raw):
            self.thresholds_ascending(item, rid, [params[lv.when] for lv in out])
        return None, tuple(out)

    def thresholds_ascending(self, item: dict, rid: str, params: list[Parameter]) -> None:
        """On every date a threshold changes, more severe levels must need a higher indicator."""
        units = {p.unit for p in params}
        if len(units) > 1:
            self.bad(item, rid, "levels", f"thresholds mix units ({', '.join(sorted(units))}); use one")
            return
        for day in sorted({v.since for p in params for v in p.values}):
            now = [(p.name, p.on(day)) for p in params]
            now = [(n, v.value) for n, v in now if v is not None]
            for (n1, v1), (n2, v2) in zip(now, now[1:], strict=False):
                if not v1 < v2:
                    self.bad(item, rid, "levels", f"on {day}: threshold {n2} ({v2}) must be above "
                                                  f"{n1} ({v1}), as its level is more severe")

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self, raw: object, item: dict, rid: str) -> tuple[Parameter, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.bad(item, rid, "parameters", "give a mapping of parameter name → {unit, values}, or {}")
            return ()
        out = []
        for name, spec in raw.items():
            param = self.parameter(str(name), spec, raw, rid)
            if param is not None:
                out.append(param)
        return tuple(out)

    def parameter(self, name: str, spec: object, parent: object, rid: str) -> Parameter | None:
        fld = f"parameters.{name}"
        before = len(self.problems)
        if not _ID.match(name):
            self.bad(parent, rid, fld, "a parameter name is lower_case_with_underscores")
        if not isinstance(spec, dict):
            self.bad(parent, rid, fld, "give {unit: …, values: [{from: YYYY-MM-DD, value: …, source: …}]}")
            return None
        for key in spec:
            if key not in PARAMETER_KEYS:
                self.bad(spec, rid, f"{fld}.{key}", f"unknown key; allowed: {', '.join(PARAMETER_KEYS)}")
        unit = spec.get("unit")
        if unit not in UNITS:
            self.bad(spec, rid, f"{fld}.unit", f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
            return None
        raw_values = spec.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            self.bad(spec, rid, f"{fld}.values", "give a non-empty list of {from: YYYY-MM-DD, value: …, "
                                                 "source: …}")
            return None
        values = [self.dated(v, unit, rid, fld) for v in raw_values]
        if len(self.problems) > before:
            return None
        for prev, nxt in zip(values, values[1:], strict=False):
            if nxt.since <= prev.since:
                self.bad(spec, rid, f"{fld}.values",
                         f"dates must ascend: {nxt.since} comes after {prev.since}")
            elif prev.until is not None and prev.until >= nxt.since:
                self.bad(spec, rid, f"{fld}.values", f"overlapping dates: value from {prev.since} runs until "
                                                     f"{prev.until}, but the next starts {nxt.since}")
        if len(self.problems) > before:
            return None
        description = spec.get("description")
        return Parameter(name=name, unit=unit, description=str(description or "").strip(),
                         values=tuple(values))

    def dated(self, raw: object, unit: str, rid: str, fld: str) -> DatedValue:
        dummy = DatedValue(dt.date.min, None, "", "")
        if not isinstance(raw, dict):
            self.bad(None, rid, f"{fld}.values", f"{raw!r}: each value is {{from: YYYY-MM-DD, value: …, "
                                                 "source: …}")
            return dummy
        for key in raw:
            if key not in VALUE_KEYS:
                self.bad(raw, rid, f"{fld}.values.{key}", f"unknown key; allowed: {', '.join(VALUE_KEYS)}")
        since = self.date(raw, "from", rid, fld, required=True)
        until = self.date(raw, "until", rid, fld, required=False)
        if since and until and until < since:
            self.bad(raw, rid, f"{fld}.values.until", f"until {until} is before from {since}")
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            self.bad(raw, rid, f"{fld}.values.source",
                     "missing: name the document the value comes from, or say it is a provincial "
                     "practice value set by the province")
            source = ""
        if "value" not in raw:
            self.bad(raw, rid, f"{fld}.values.value", f"missing: give {UNITS[unit]}")
            return dummy
        value = self.convert(raw["value"], unit, raw, rid, f"{fld}.values.value")
        return DatedValue(since or dt.date.min, until, value, source.strip())

    def date(self, raw: dict, key: str, rid: str, fld: str, *, required: bool) -> dt.date | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.bad(raw, rid, f"{fld}.values.{key}", "missing: give the date the value takes effect, "
                                                          "YYYY-MM-DD")
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.bad(raw, rid, f"{fld}.values.{key}", f"{value!r} is not a date; use YYYY-MM-DD")
            return None

    def convert(self, value: object, unit: str, where: object, rid: str, fld: str) -> Value:
        def wrong() -> Value:
            self.bad(where, rid, fld, f"{value!r} is not valid for unit {unit}: give {UNITS[unit]}")
            return ""

        if unit == "ratio":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return wrong()
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                return wrong()
            return number if number.is_finite() and number >= 0 else wrong()
        if unit == "yuan":
            # only a string: a YAML number is a float and money never goes through a float
            if not isinstance(value, str) or not _YUAN.match(value.strip()):
                return wrong()
            yuan, _, cents = value.strip().partition(".")
            return int(yuan) * 100 + int(cents.ljust(2, "0"))
        if unit in ("months", "years", "days", "count"):
            return value if type(value) is int and value >= 0 else wrong()
        if unit == "text":
            return value.strip() if isinstance(value, str) and value.strip() else wrong()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return wrong()
        return tuple(v.strip() for v in value)
