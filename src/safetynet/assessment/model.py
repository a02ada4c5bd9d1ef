"""Batch assessment runs: input checks, change kinds and the run summary (pure logic)."""

from __future__ import annotations

import re
from enum import StrEnum

import numpy as np

from safetynet.errors import SafetynetError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class AssessmentInputError(SafetynetError):
    """A bad month, region or page (the CLI exits 2, the API answers 422). `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RunStatus(StrEnum):
    # A run is written in one transaction: it is only ever seen completed. `running` exists
    # for the row's life inside that transaction (and for a future background runner).
    running = "running"
    completed = "completed"


STATUS_LABELS = {"running": "进行中", "completed": "已完成"}


class Change(StrEnum):
    new = "new"  # not in a rule tier in the register, assessed into one
    exit = "exit"  # in a rule tier in the register, assessed into none
    up = "up"  # assessed into a deeper tier (more help), e.g. dibao_edge → dibao
    down = "down"  # assessed into a shallower tier (less help), e.g. dibao → dibao_edge
    unchanged = "unchanged"


CHANGE_LABELS = {"new": "新纳入", "exit": "退出", "up": "提档（救助加深）", "down": "降档（救助减轻）",
                 "unchanged": "不变"}

#: The tiers the rules decide, deepest first; "none" is no tier.
RULE_TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure")
TIERS = (*RULE_TIERS, "none")
TIER_LABELS = {"extremely_poor": "特困", "dibao": "低保", "dibao_edge": "低保边缘",
               "rigid_expenditure": "刚性支出困难", "none": "无"}
_RANK = {t: i for i, t in enumerate(TIERS)}


def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise AssessmentInputError("month", f"not a month: {month!r}; expected YYYY-MM (e.g. 2025-07)")
    return month


def check_region(region: str | None) -> str | None:
    """A region code prefix (2/4/6/9/12 digits; a 12-digit code ending in zeros is shortened)."""
    if region is None or region == "":
        return None
    if not isinstance(region, str) or not re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}", region):
        raise AssessmentInputError("region", f"not a region code: {region!r}; use 2/4/6/9/12 digits "
                                             "(e.g. 3704 or 370402)")
    if len(region) == 12:
        stripped = region.rstrip("0")
        for n in (2, 4, 6, 9, 12):
            if len(stripped) <= n:
                return region[:n]
    return region


def check_change(change: str | None) -> str | None:
    if change is None or change == "":
        return None
    if change not in Change.__members__:
        raise AssessmentInputError("change", f"not a change kind: {change!r}; use one of "
                                             f"{', '.join(Change.__members__)}")
    return change


def rule_tier(registered: np.ndarray) -> np.ndarray:
    """Registered tiers as the rules' tiers: monitoring categories the rules do not decide
    (anti_relapse, other_concern) and no enrolment count as "none"."""
    reg = np.asarray(registered, dtype=object)
    reg = np.where(reg == None, "none", reg).astype(str)  # noqa: E711 - elementwise
    return np.where(np.isin(reg, RULE_TIERS), reg, "none")


def _ranks(tiers: np.ndarray) -> np.ndarray:
    out = np.full(len(tiers), _RANK["none"], dtype=np.int64)
    for tier, rank in _RANK.items():
        out[tiers == tier] = rank
    return out


def change_kinds(registered: np.ndarray, assessed: np.ndarray) -> np.ndarray:
    """Per household: new / exit / up / down / unchanged, comparing the rules' tier the
    household is enrolled in (`registered`, see `rule_tier`) with the assessed tier."""
    rank_reg = _ranks(rule_tier(registered))
    rank_got = _ranks(np.asarray(assessed).astype(str))
    none = _RANK["none"]
    out = np.full(len(rank_got), Change.unchanged.value, dtype=object)
    out[(rank_reg == none) & (rank_got != none)] = Change.new.value
    out[(rank_reg != none) & (rank_got == none)] = Change.exit.value
    both = (rank_reg != none) & (rank_got != none)
    out[both & (rank_got < rank_reg)] = Change.up.value
    out[both & (rank_got > rank_reg)] = Change.down.value
    return out.astype(str)


def _counts(registered: np.ndarray, assessed: np.ndarray, changes: np.ndarray,
            benefit_fen: np.ndarray) -> dict:
    out: dict = {"households": int(len(assessed)),
                 "monthly_benefit_fen": int(benefit_fen.sum()) if len(benefit_fen) else 0,
                 "assessed": {t: int((assessed == t).sum()) for t in TIERS},
                 "registered": {t: int((registered == t).sum()) for t in TIERS},
                 "changes": {c.value: int((changes == c.value).sum()) for c in Change}}
    # change kind × tier: new and up by the assessed tier, exit and down by the registered one
    by_tier: dict[str, dict[str, int]] = {}
    for c in Change:
        m = changes == c.value
        tiers = registered[m] if c in (Change.exit, Change.down) else assessed[m]
        by_tier[c.value] = {t: int((tiers == t).sum()) for t in TIERS if (tiers == t).any()}
    out["changes_by_tier"] = by_tier
    return out


def summarize(counties: np.ndarray, registered: np.ndarray, assessed: np.ndarray, changes: np.ndarray,
              benefit_fen: np.ndarray, names: dict[str, str]) -> dict:
    """The run summary: totals and one entry per county (counts by tier and change kind)."""
    reg = rule_tier(registered)
    assessed = np.asarray(assessed).astype(str)
    total = _counts(reg, assessed, changes, benefit_fen)
    counties = np.asarray(counties).astype(str)
    order = np.argsort(counties, kind="stable")
    codes, starts = np.unique(counties[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    rows = []
    for k, code in enumerate(codes.tolist()):
        m = order[bounds[k]:bounds[k + 1]]
        rows.append({"code": code, "name": names.get(code, ""),
                     **_counts(reg[m], assessed[m], changes[m], benefit_fen[m])})
    return {"total": total, "counties": rows}


# --- a reader's part of a run ------------------------------------------------------------------

def empty_counts() -> dict:
    """The counts of no household (the shape of a summary's total or county entry)."""
    return {"households": 0, "monthly_benefit_fen": 0, "assessed": dict.fromkeys(TIERS, 0),
            "registered": dict.fromkeys(TIERS, 0), "changes": {c.value: 0 for c in Change},
            "changes_by_tier": {c.value: {} for c in Change}}


def add_counts(into: dict, part: dict) -> dict:
    """`into` plus `part` (both shaped as `empty_counts`): every figure is a count or a sum, so a
    region's total is the sum of its counties' entries."""
    into["households"] += part["households"]
    into["monthly_benefit_fen"] += part["monthly_benefit_fen"]
    for key in ("assessed", "registered", "changes"):
        for k, n in part[key].items():
            into[key][k] = into[key].get(k, 0) + n
    for change, tiers in part["changes_by_tier"].items():
        mine = into["changes_by_tier"].setdefault(change, {})
        for t, n in tiers.items():
            mine[t] = mine.get(t, 0) + n
    # the summary's order of tiers (deepest first)
    into["changes_by_tier"] = {c: {t: v[t] for t in TIERS if v.get(t)}
                               for c, v in into["changes_by_tier"].items()}
    return into


def counts_of_groups(groups: list[tuple[str | None, str, str, int, int]]) -> dict:
    """`empty_counts` filled from result rows grouped as (registered tier, assessed tier, change,
    households, benefit fen) — `summarize`'s figures for those households."""
    out = empty_counts()
    for registered, assessed, change, n, benefit in groups:
        reg = rule_tier(np.array([registered], dtype=object))[0]
        add_counts(out, {"households": n, "monthly_benefit_fen": int(benefit or 0),
                         "assessed": {assessed: n}, "registered": {str(reg): n}, "changes": {change: n},
                         "changes_by_tier": {change: {str(reg) if change in (Change.exit, Change.down)
                                                      else assessed: n}}})
    return out


def run_region_relation(run_region: str | None, scope: str) -> str:
    """How a run over `run_region` (None: the whole register) stands to a reader's region
    `scope`: "inside" it (the run is all theirs), "covers" it (the run holds other regions'
    households too) or "apart" (nothing of theirs)."""
    region = run_region or ""
    if region.startswith(scope):
        return "inside"
    if scope.startswith(region):
        return "covers"
    return "apart"
