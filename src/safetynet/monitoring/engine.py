"""From a catalogue rule to its candidate warnings: the rule's indicators, its population, its level.

The expressions are Ibis, the same on every backend; values are shown and evidence is ordered in
Python after the (small) candidate table is fetched, so that both backends give the same text.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from safetynet.errors import SafetynetError
from safetynet.monitoring.catalogue import Catalogue, ParameterError, Rule
from safetynet.monitoring.indicators import DISPLAY, INDICATORS, PARAMETERS, UNBOUNDED_RATIO
from safetynet.monitoring.inputs import Inputs

#: evidence rows kept per warning (a person with 40 hotline calls is shown the latest 20)
MAX_EVIDENCE = 20
UNREGISTERED = "unregistered"


class MonitorCatalogueError(SafetynetError):
    """The catalogue names an indicator the engine does not have, or lacks a parameter it reads."""


def check_catalogue(catalogue: Catalogue, on: dt.date) -> None:
    """Every rule's indicators exist and every parameter they read has a value on `on`: all problems
    at once, naming the file, rule and indicator."""
    problems = []
    for rule in catalogue:
        for name in rule.indicator:
            if name not in INDICATORS:
                problems.append(f"rule {rule.id}: unknown indicator {name!r} (the engine has: "
                                f"{', '.join(sorted(INDICATORS))})")
                continue
            for param in PARAMETERS[name]:
                try:
                    rule.value(param, on)
                except ParameterError as e:
                    problems.append(f"rule {rule.id}: indicator {name} reads parameter {param!r}: {e}")
        for lv in rule.levels:
            try:
                rule.value(lv.when, on)
            except ParameterError as e:
                problems.append(f"rule {rule.id}: level {lv.level} threshold {lv.when!r}: {e}")
        displays = {DISPLAY[n] for n in rule.indicator if n in INDICATORS}
        if len(displays) > 1:
            problems.append(f"rule {rule.id}: its indicators measure different things ({sorted(displays)}); "
                            "a rule's indicators must share one unit")
    if problems:
        raise MonitorCatalogueError(f"{catalogue.path}: " + "; ".join(problems))


def _level(rule: Rule, t: ir.Table, on: dt.date) -> ir.StringValue:
    if not rule.levels:
        return ibis.literal(rule.level)
    cases = []
    for lv in reversed(rule.levels):  # most severe first
        threshold = rule.value(lv.when, on)
        if rule.parameter(lv.when).unit == "yuan":  # money: integer fen against integer fen
            cases.append((t.amount_fen >= threshold, lv.level))
        else:
            limit = float(threshold) if isinstance(threshold, Decimal) else threshold
            cases.append((t.score >= limit, lv.level))
    return ibis.cases(*cases, else_=ibis.null("string"))


def rule_candidates(x: Inputs, rule: Rule) -> ir.Table:
    """One row per person the rule fires for in x.month: rule, id_number, person and household ids,
    household_no, region_code, level, score, amount_fen, evidence."""
    parts = [INDICATORS[name](x, rule) for name in rule.indicator]
    t = parts[0]
    if len(parts) > 1:  # e.g. the month's and the 12 months' medical ratios: the larger decides
        u = ibis.union(*parts)
        key = u.score.fill_null(0) + u.amount_fen.fill_null(0).cast("float64")
        t = u.group_by("id_number").aggregate(score=u.score.max(), amount_fen=u.amount_fen.max(),
                                              region=u.region.max(), evidence=u.evidence.argmax(key))
    p = x.people
    t = t.left_join(p, "id_number").drop("id_number_right")
    tier = t.tier.fill_null(UNREGISTERED)
    t = t.filter(tier.isin(sorted(rule.tiers)))
    t = t.mutate(level=_level(rule, t, x.end))
    t = t.filter(t.level.notnull())
    feed_region = ibis.cases((t.region.re_search(r"^[0-9]{12}$"), t.region), else_=ibis.null("string"))
    region = t.region_code.fill_null(feed_region).fill_null(t.id_number.substr(0, 6) + "000000")
    return t.select("id_number", "person_id", "household_id", "household_no", "level", "score", "amount_fen",
                    "evidence", region_code=region)


# --- shown in Python: identical text whatever the backend -------------------------------------------

def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}元"


def show_value(display: str, score: float | None, fen: int | None) -> str | None:
    if display == "ratio" and score is not None:
        return "∞（无计入收入 no counted income）" if score >= UNBOUNDED_RATIO else f"{score:.2f}"
    if display == "percent_drop" and score is not None:
        return f"-{round(score * 100)}%"
    if display == "fen" and fen is not None:
        return _yuan(fen)
    if display == "count" and score is not None:
        return str(int(score))
    if display == "months" and score is not None:
        return f"{int(score)}个月"
    return None


def evidence_text(entries: list[dict] | None) -> str:
    """Evidence as stored: ordered (latest month first, then feed and record id), without repeats,
    at most MAX_EVIDENCE entries."""
    seen = {(e["feed"], e["record_id"], e["month"]) for e in entries or [] if e is not None}
    ordered = sorted(seen, key=lambda e: (e[0], e[1]))
    ordered.sort(key=lambda e: e[2] or "", reverse=True)
    return json.dumps([{"feed": f, "record_id": r, "month": m} for f, r, m in ordered[:MAX_EVIDENCE]],
                      ensure_ascii=False)


def finish_candidates(rule: Rule, fetched: pa.Table) -> pa.Table:
    """The fetched rows of one rule as `record_warnings` takes them."""
    n = fetched.num_rows
    display = DISPLAY[rule.indicator[0]]
    scores = fetched.column("score").to_pylist()
    fens = fetched.column("amount_fen").to_pylist()
    return pa.table({
        "rule": pa.array([rule.id] * n, pa.string()),
        "id_number": fetched.column("id_number"),
        "person_id": fetched.column("person_id").cast(pa.int64()),
        "household_id": fetched.column("household_id").cast(pa.int64()),
        "household_no": fetched.column("household_no"),
        "region_code": fetched.column("region_code"),
        "level": fetched.column("level"),
        "need": pa.array([rule.need] * n, pa.string()),
        "side": pa.array([rule.side] * n, pa.string()),
        "value": pa.array([show_value(display, s, f) for s, f in zip(scores, fens, strict=True)],
                          pa.string()),
        "evidence": pa.array([evidence_text(e) for e in fetched.column("evidence").to_pylist()], pa.string()),
    })
