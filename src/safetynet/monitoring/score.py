"""Scoring the warnings against a synthetic province's truth (issue 5, item 4).

Each planted event kind maps to the rules that should catch it; an event counts for a rule only when
the rule's population covers the person (the event's tier, or "unregistered" for people only the feeds
know). Per rule, over the scored months:

- recall = planted events whose person has a firing of the rule in the event's month ÷ planted events;
- precision = warnings that fired in the scored months and correspond to a planted event of a mapped
  kind for the same person, dated from the warning's raised month minus the rule's suppression window
  to its last fired month ÷ those warnings.

Condition-style rules (a recipient who died, a car owned) fire every month the condition holds: one
warning with several firings, matched by the one event. Rules no planted kind maps to (e.g.
income_above_line) are reported with their warning count only. The join is one DuckDB query over
Arrow tables; `score` is pure, `score_store` reads the truth folder and the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from safetynet.errors import SafetynetError
from safetynet.monitoring.store import monitor_runs, warning_firings, warnings
from safetynet.monitoring.warnings import WarningInputError, check_month

#: truth event kind → the rules that should raise a warning for it
KIND_RULES: dict[str, tuple[str, ...]] = {
    "death": ("recipient_death", "earner_death"),
    "medical_large": ("medical_oop_large",),
    "new_car": ("asset_car",),
    "new_property": ("asset_property",),
    "new_business": ("asset_business",),
    "education_entry": ("education_cost",),
    **{kind: (kind,) for kind in ("income_drop", "new_disability", "new_unemployment", "disaster_loss",
                                  "hotline_help", "anti_relapse", "cadre_relative")},
}
#: rules that expect an event only where the person was the household's main earner
MAIN_EARNER_RULES = frozenset({"earner_death"})
EVENT_COLUMNS = ("kind", "id_number", "registered", "tier", "month", "main_earner")


class ScoreInputError(SafetynetError):
    """A truth folder, month or store state the score cannot use; `field` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RuleLike(Protocol):
    """What scoring needs of a catalogue rule (monitoring.catalogue.Rule has it)."""

    id: str
    suppression_months: int

    @property
    def tiers(self) -> frozenset[str]: ...


# --- inputs -------------------------------------------------------------------------------------

def read_events(truth_dir: Path) -> pa.Table:
    """truth/events.parquet, checked for the columns scoring reads."""
    truth_dir = Path(truth_dir)
    if not truth_dir.is_dir():
        raise ScoreInputError("truth", f"{truth_dir} is not a folder; give the truth/ folder of a synthetic "
                                       "province (`safetynet synth --out DIR` writes DIR/truth)")
    path = truth_dir / "events.parquet"
    if not path.is_file():
        inner = truth_dir / "truth"
        hint = f" (did you mean {inner}?)" if (inner / "events.parquet").is_file() else ""
        raise ScoreInputError("truth", f"no events.parquet in {truth_dir}{hint}; give the truth/ folder "
                                       "written by `safetynet synth`")
    try:
        events = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise ScoreInputError("truth", f"{path} is not a readable Parquet file: {e}") from e
    missing = [c for c in EVENT_COLUMNS if c not in events.column_names]
    if missing:
        raise ScoreInputError("truth", f"{path} lacks column(s) {', '.join(missing)}; expected the events "
                                       f"table of `safetynet synth` ({', '.join(EVENT_COLUMNS)}, …)")
    return events.select(list(EVENT_COLUMNS))


def scored_months(engine: Engine, months: Iterable[str] | None = None) -> list[str]:
    """The months asked for (each must have a finished monitor run), or every month that has one."""
    with engine.connect() as conn:
        runs = conn.execute(select(monitor_runs.c.month, monitor_runs.c.status)).all()
    finished = {m for m, status in runs if status == "finished"}
    if months is None:
        if not finished:
            raise ScoreInputError("month", "no finished monitor run in the store; run "
                                           "`safetynet monitor run --month YYYY-MM` first")
        return sorted(finished)
    asked = sorted(set(months))
    if not asked:
        raise ScoreInputError("month", "give at least one month (YYYY-MM) or none to score every run month")
    for month in asked:
        try:
            check_month(month)
        except WarningInputError as e:
            raise ScoreInputError("month", str(e)) from None
    for month in asked:
        if month not in finished:
            other = sorted({status for m, status in runs if m == month})
            state = f" (its runs are {', '.join(other)})" if other else ""
            raise ScoreInputError("month", f"no finished monitor run for {month}{state}; run `safetynet "
                                           f"monitor run --month {month}` first, or score one of: "
                                           f"{', '.join(sorted(finished)) or 'none'}")
    return asked


def read_warnings(engine: Engine, months: Sequence[str]) -> tuple[pa.Table, pa.Table]:
    """(warnings that fired in `months`: id, rule, id_number, month raised, last_month;
    firings in `months`: rule, id_number, month)."""
    w, f = warnings, warning_firings
    in_months = f.c.month.in_(list(months))
    fired = select(f.c.warning_id).where(in_months)
    with engine.connect() as conn:
        rows = conn.execute(select(w.c.id, w.c.rule, w.c.id_number, w.c.month, w.c.last_month)
                            .where(w.c.id.in_(fired))).all()
        fires = conn.execute(select(w.c.rule, w.c.id_number, f.c.month)
                             .select_from(f.join(w, w.c.id == f.c.warning_id)).where(in_months)).all()
    s = pa.string()
    warned = pa.table([pa.array([r[i] for r in rows], t) for i, t in enumerate((pa.int64(), s, s, s, s))],
                      names=["id", "rule", "id_number", "month", "last_month"])
    firings = pa.table([pa.array([r[i] for r in fires], s) for i in range(3)],
                       names=["rule", "id_number", "month"])
    return warned, firings


# --- scoring ------------------------------------------------------------------------------------

_SQL = """
CREATE MACRO midx(m) AS CAST(substr(m, 1, 4) AS INTEGER) * 12 + CAST(substr(m, 6, 2) AS INTEGER) - 1;
CREATE TABLE expected AS  -- (event, rule) pairs the rule should catch
  SELECT k.rule, e.id_number, e.month, midx(e.month) AS mi
  FROM events e JOIN kind_rules k ON k.kind = e.kind JOIN rules r ON r.rule = k.rule
  WHERE list_contains(r.tiers, CASE WHEN e.registered THEN e.tier ELSE 'unregistered' END)
    AND (NOT k.main_earner_only OR coalesce(e.main_earner, false));
CREATE TABLE recall AS
  SELECT x.rule, count(*) AS planted, count(f.rule) AS found
  FROM expected x
  LEFT JOIN (SELECT DISTINCT rule, id_number, month FROM firings) f
    ON f.rule = x.rule AND f.id_number = x.id_number AND f.month = x.month
  WHERE x.month IN (SELECT month FROM months)
  GROUP BY x.rule;
CREATE TABLE precision_ AS
  SELECT w.rule, count(*) AS warnings, count(m.id) AS matched
  FROM warned w
  LEFT JOIN (SELECT DISTINCT w.id FROM warned w JOIN rules r ON r.rule = w.rule
             JOIN expected x ON x.rule = w.rule AND x.id_number = w.id_number
              AND x.mi BETWEEN midx(w.month) - r.suppression AND midx(w.last_month)) m ON m.id = w.id
  GROUP BY w.rule;
"""


def _ratio(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


def score(events: pa.Table, warned: pa.Table, firings: pa.Table, rules: Sequence[RuleLike],
          months: Sequence[str]) -> dict:
    """{"months", "rules": [{rule, planted, found, recall, warnings, matched, precision}], "overall"}.
    `rules` in report order; rule ids found only among the warnings (not in the catalogue) follow."""
    ids = [r.id for r in rules]
    extra = sorted(set(warned.column("rule").to_pylist()) - set(ids))
    scored = {rule for rules_of_kind in KIND_RULES.values() for rule in rules_of_kind}
    rule_table = pa.table({
        "rule": pa.array(ids, pa.string()),
        "tiers": pa.array([sorted(r.tiers) for r in rules], pa.list_(pa.string())),
        "suppression": pa.array([r.suppression_months for r in rules], pa.int32())})
    kind_rules = pa.table({
        "kind": [k for k, rs in KIND_RULES.items() for _ in rs],
        "rule": [r for rs in KIND_RULES.values() for r in rs],
        "main_earner_only": [r in MAIN_EARNER_RULES for rs in KIND_RULES.values() for r in rs]})
    con = duckdb.connect()
    try:
        for name, table in (("events", events), ("warned", warned), ("firings", firings),
                            ("rules", rule_table), ("kind_rules", kind_rules),
                            ("months", pa.table({"month": pa.array(list(months), pa.string())}))):
            con.register(name, table)
        try:
            con.execute(_SQL)
        except duckdb.ConversionException as e:
            raise ScoreInputError("truth", f"events.parquet has a month that is not YYYY-MM: {e}") from e
        recall = {r: (p, f) for r, p, f in con.execute("SELECT rule, planted, found FROM recall").fetchall()}
        precision = {r: (w, m) for r, w, m in
                     con.execute("SELECT rule, warnings, matched FROM precision_").fetchall()}
    finally:
        con.close()
    out = []
    for rule in [*ids, *extra]:
        warned_n, matched = precision.get(rule, (0, 0))
        if rule in scored:
            planted, found = recall.get(rule, (0, 0))
        else:  # no planted kind maps to this rule: nothing to score it against
            planted = found = matched = None
        out.append({"rule": rule, "planted": planted, "found": found, "recall": _ratio(found, planted),
                    "warnings": warned_n, "matched": matched, "precision": _ratio(matched, warned_n)})
    with_truth = [r for r in out if r["planted"] is not None]
    planted, found = sum(r["planted"] for r in with_truth), sum(r["found"] for r in with_truth)
    warned_n, matched = sum(r["warnings"] for r in with_truth), sum(r["matched"] for r in with_truth)
    overall = {"planted": planted, "found": found, "recall": _ratio(found, planted), "warnings": warned_n,
               "matched": matched, "precision": _ratio(matched, warned_n),
               "unscored_warnings": sum(r["warnings"] for r in out if r["planted"] is None)}
    return {"months": list(months), "rules": out, "overall": overall}


def score_store(engine: Engine, truth_dir: Path, rules: Sequence[RuleLike], *,
                months: Iterable[str] | None = None) -> dict:
    """Score the store's warnings of `months` (default: every month with a finished monitor run)
    against truth_dir/events.parquet."""
    events = read_events(truth_dir)
    chosen = scored_months(engine, months)
    warned, firings = read_warnings(engine, chosen)
    return score(events, warned, firings, rules, chosen)
