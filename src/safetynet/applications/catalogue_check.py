"""Reading and checking a matter catalogue file: YAML with duplicate keys refused and lines remembered,
then every problem collected (file, line, matter, field, what valid looks like) before any is raised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from safetynet import yamlfile
from safetynet.applications.catalogue import (
    DECIDERS,
    ENROL_TIERS,
    FIXED_MATTERS,
    MATTER_ID,
    MATTER_KEYS,
    PROCESS_KEYS,
    REQUIRED_MATTER_KEYS,
    TOP_KEYS,
    Catalogue,
    CatalogueError,
    Dated,
    Matter,
    Problem,
    Valued,
)
from safetynet.casework.policy import ROUTING_DEPARTMENTS


def load(path: Path) -> Catalogue:
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

    def bad(self, where: object, matter: str | None, fld: str | None, reason: str) -> None:
        self.problems.append(Problem(self.file, yamlfile.line_of(where), matter, fld, reason))

    def catalogue(self, raw: object, path: Path) -> Catalogue:
        if not isinstance(raw, dict):
            self.bad(raw, None, None, "the file must be a mapping with `process:` and `matters:`")
            raise CatalogueError(self.problems)
        for key in raw:
            if key not in TOP_KEYS and not str(key).startswith("x-"):
                self.bad(
                    raw,
                    None,
                    str(key),
                    f"unknown top-level key; allowed: {', '.join(TOP_KEYS)} (and x-… for YAML anchors)",
                )
        process = self.process(raw.get("process"), raw)
        items = raw.get("matters")
        if not isinstance(items, list) or not items:
            self.bad(raw, None, "matters", "missing or empty: give a list of matters")
            raise CatalogueError(self.problems)
        matters: list[Matter] = []
        seen: set[str] = set()
        for i, item in enumerate(items, 1):
            matter = self.matter(item, i)
            if matter is None:
                continue
            if matter.id in seen:
                self.bad(item, matter.id, "id", "duplicate matter id: each id may appear once")
                continue
            seen.add(matter.id)
            matters.append(matter)
        named = {str(item.get("id")) for item in items if isinstance(item, dict)}
        for fixed in FIXED_MATTERS:
            if fixed not in named:
                self.bad(
                    raw,
                    fixed,
                    "id",
                    "a fixed matter (docs/contracts/applications.md) is missing: keep "
                    f"all of {', '.join(FIXED_MATTERS)}; change their values, not their ids",
                )
        if self.problems:
            raise CatalogueError(self.problems)
        return Catalogue(
            path=path, description=str(raw.get("description") or ""), process=process, matters=tuple(matters)
        )

    def process(self, raw: object, parent: object) -> dict[str, tuple[Dated, ...]]:
        if not isinstance(raw, dict):
            self.bad(parent, None, "process", f"missing: give {', '.join(PROCESS_KEYS)} as dated values")
            return {}
        for key in raw:
            if key not in PROCESS_KEYS:
                self.bad(raw, None, f"process.{key}", f"unknown key; allowed: {', '.join(PROCESS_KEYS)}")
        out = {}
        for key in PROCESS_KEYS:
            out[key] = self.dated_list(raw.get(key), raw, None, f"process.{key}", "value")
        return out

    def matter(self, item: object, position: int) -> Matter | None:
        if not isinstance(item, dict):
            self.bad(
                item, f"#{position}", None, "a matter must be a mapping of id, name_zh, … (see the header)"
            )
            return None
        mid = item.get("id")
        if not isinstance(mid, str) or not MATTER_ID.match(mid):
            self.bad(
                item,
                f"#{position}",
                "id",
                f"{mid!r} is not a matter id: 2–32 lower-case letters, digits "
                "and _ starting with a letter, e.g. dibao",
            )
            mid = f"#{position}"
        before = len(self.problems)
        for key in item:
            if key not in MATTER_KEYS:
                self.bad(item, mid, str(key), f"unknown key; allowed: {', '.join(MATTER_KEYS)}")
        for key in REQUIRED_MATTER_KEYS:
            if key not in item:
                self.bad(item, mid, key, "required")
        if len(self.problems) > before:
            return None
        names = {k: self.text(item, mid, k) for k in ("name_zh", "name_en")}
        enrols = item.get("enrols")
        if enrols is not None and enrols not in ENROL_TIERS:
            self.bad(item, mid, "enrols", f"{enrols!r}: one of {', '.join(ENROL_TIERS)}, or null")
        if mid in FIXED_MATTERS and enrols != FIXED_MATTERS[mid]:
            self.bad(item, mid, "enrols", f"a fixed matter keeps the tier it opens: {FIXED_MATTERS[mid]!r}")
        decides = self.valued(item, mid, "decides", lambda v: v in DECIDERS, f"one of {', '.join(DECIDERS)}")
        department = self.valued(
            item,
            mid,
            "department",
            lambda v: v in ROUTING_DEPARTMENTS,
            f"a department id of the routing table: {', '.join(ROUTING_DEPARTMENTS)}",
        )
        if decides and department and decides.value == "department" and department.value == "civil_affairs":
            self.bad(
                item,
                mid,
                "department",
                "a matter a department decides names that department, not civil_affairs",
            )
        notice = self.valued(item, mid, "notice", lambda v: isinstance(v, bool), "true or false")
        aid = None
        if "aid_first_hours" in item:
            aid = self.valued(
                item,
                mid,
                "aid_first_hours",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 720,
                "a whole number of hours, 1 to 720",
            )
        limits = self.dated_list(item.get("time_limit"), item, mid, "time_limit", "working_days")
        if len(self.problems) > before or None in (decides, department, notice):
            return None
        return Matter(
            id=mid,
            name_zh=names["name_zh"],
            name_en=names["name_en"],
            enrols=enrols,
            decides=decides,
            department=department,
            notice=notice,
            time_limit=limits,
            aid_first_hours=aid,
        )

    def text(self, item: dict, mid: str, key: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            self.bad(item, mid, key, "a text of 1–120 characters")
            return ""
        return value.strip()

    def valued(self, item: dict, mid: str, key: str, ok, wanted: str) -> Valued | None:  # noqa: ANN001
        raw = item.get(key)
        if not isinstance(raw, dict) or set(raw) != {"value", "source"}:
            self.bad(item, mid, key, f"give {{value: …, source: …}} (value: {wanted})")
            return None
        if not ok(raw["value"]):
            self.bad(raw, mid, f"{key}.value", f"{raw['value']!r}: {wanted}")
            return None
        if not isinstance(raw["source"], str) or not raw["source"].strip():
            self.bad(raw, mid, f"{key}.source", "every value names its source (the document it follows)")
            return None
        return Valued(raw["value"], " ".join(raw["source"].split()))

    def dated_list(
        self, raw: object, parent: object, mid: str | None, fld: str, value_key: str
    ) -> tuple[Dated, ...]:
        if not isinstance(raw, list) or not raw:
            self.bad(
                parent,
                mid,
                fld,
                f"give a list of dated values [{{from: YYYY-MM-DD, {value_key}: N, source: …}}]",
            )
            return ()
        out: list[Dated] = []
        for i, entry in enumerate(raw):
            where = f"{fld}[{i}]"
            if not isinstance(entry, dict):
                self.bad(raw, mid, where, f"a mapping {{from, until?, {value_key}, source}}")
                continue
            extra = set(entry) - {"from", "until", value_key, "source"}
            if extra:
                self.bad(
                    entry,
                    mid,
                    where,
                    f"unknown key(s) {', '.join(sorted(map(str, extra)))}; allowed: "
                    f"from, until, {value_key}, source",
                )
            since, until, value = entry.get("from"), entry.get("until"), entry.get(value_key)
            if not isinstance(since, dt.date) or isinstance(since, dt.datetime):
                self.bad(entry, mid, f"{where}.from", "the date it applies from, YYYY-MM-DD")
                continue
            if until is not None and (not isinstance(until, dt.date) or until < since):
                self.bad(entry, mid, f"{where}.until", "a date (YYYY-MM-DD) on or after `from`, or left out")
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 365:
                self.bad(entry, mid, f"{where}.{value_key}", f"{value!r}: a whole number from 1 to 365")
                continue
            source = entry.get("source")
            if not isinstance(source, str) or not source.strip():
                self.bad(
                    entry, mid, f"{where}.source", "every value names its source (the document it follows)"
                )
                continue
            out.append(Dated(since, until, value, " ".join(source.split())))
        out.sort(key=lambda d: d.since)
        for a, b in zip(out, out[1:], strict=False):
            if a.until is not None and a.until >= b.since or a.since == b.since:
                self.bad(
                    raw,
                    mid,
                    fld,
                    f"dated values overlap ({a.since} and {b.since}); end one before the next begins",
                )
        return tuple(out)
