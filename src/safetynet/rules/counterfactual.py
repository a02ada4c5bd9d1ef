"""Counterfactual for one household: the smallest change of its counted income, or of the
dibao standard, that moves it across its nearest tier boundary (issue 3, item 6).

Every candidate is decided by `service.assess` itself, so every rule is honoured; the search
is a bisection on whole fen up to a bound. It assumes the tier moves one way as the amount
grows (true of the income and standard tests); the amount found is the smallest at which
the tier has moved, to the fen, given that.

Output: {"baseline": <assess output>, "boundaries": [...]}, one boundary per direction:
  income_up      more counted income (added to the head's wage) → a shallower tier
  income_down    less counted income (every counted item of the unit reduced in proportion)
                 → a deeper tier
  standard_up    a higher dibao standard → another tier
  standard_down  a lower dibao standard (still > 0) → another tier
each {"direction", "change" (signed yuan, 2 decimals, null when none), "from_tier",
"to_tier" (null when none), "value" (the new monthly counted family income or the new
standard), "explanation" (the counterfactual's entries for the rules whose pass/fail differs
from the baseline, or that were not tested there)}, plus "note" when no boundary exists within
the bound."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from safetynet.rules import model, service
from safetynet.rules.explain import money

TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure", "none")
DEPTH = {tier: i for i, tier in enumerate(TIERS)}  # larger is shallower
BOUND_YUAN = 100_000  # per month
BOUND_FEN = BOUND_YUAN * 100


def counterfactual(payload: Any, *, standards_lookup: service.StandardsLookup | None = None) -> dict:
    """The baseline assessment of `payload` (docs/contracts/assess.md) and, for income up and
    down and the dibao standard up and down, the smallest change that moves the household's
    tier. Raises AssessInputError (naming the field) when the input is invalid."""
    lookup = _memo(standards_lookup) if standards_lookup is not None else None
    baseline = service.assess(payload, standards_lookup=lookup)
    base_tier = baseline["household_tier"]
    cache: dict[tuple[str, int], dict] = {}

    def run(direction: str, fen: int, variant: Callable[[int], dict]) -> dict:
        key = (direction, fen)
        if key not in cache:
            cache[key] = service.assess(variant(fen), standards_lookup=lookup)
        return cache[key]

    entries = _entries(baseline)
    unit = _unit_members(payload, entries)
    counted_fen = round(sum(_counted(m) for m in unit) * 100)
    standard_fen = round(entries[("policy.local_standards", None)]["values"]["dibao_standard"] * 100)

    boundaries = []

    # income up: add to the head's wage (or the first member in the unit)
    head = next((m for m in unit if m.get("relation") == "head"), unit[0] if unit else None)
    if base_tier == "none":
        boundaries.append(_none("income_up", base_tier, "already the shallowest tier"))
    elif head is None:
        boundaries.append(_none("income_up", base_tier, "nobody is in the co-resident family"))
    else:
        index = payload["members"].index(head)

        def more_income(fen: int) -> dict:
            p = copy.deepcopy(payload)
            income = p["members"][index].setdefault("income_monthly", {})
            income["wage"] = income.get("wage", 0) + fen / 100
            return p

        boundaries.append(_boundary(
            "income_up", baseline, BOUND_FEN, lambda fen: run("income_up", fen, more_income),
            lambda t: DEPTH[t] > DEPTH[base_tier],
            lambda fen: money((counted_fen + fen) / 100), sign=1,
            nothing=f"no shallower tier with up to {BOUND_YUAN} yuan/month more income"))

    # income down: every counted item of the unit reduced in proportion
    if base_tier == "extremely_poor":
        boundaries.append(_none("income_down", base_tier, "already the deepest tier"))
    elif counted_fen == 0:
        boundaries.append(_none("income_down", base_tier, "counted income is already 0"))
    else:
        positions = [payload["members"].index(m) for m in unit]

        def less_income(fen: int) -> dict:
            p = copy.deepcopy(payload)
            factor = (counted_fen - fen) / counted_fen
            for i in positions:
                income = p["members"][i].get("income_monthly") or {}
                for item in model.COUNTED_INCOME_ITEMS:
                    if income.get(item):
                        income[item] = income[item] * factor
            return p

        boundaries.append(_boundary(
            "income_down", baseline, counted_fen, lambda fen: run("income_down", fen, less_income),
            lambda t: DEPTH[t] < DEPTH[base_tier],
            lambda fen: money((counted_fen - fen) / 100), sign=-1,
            nothing="no deeper tier even with no counted income"))

    # the dibao standard, up and down
    for direction, sign, limit in (("standard_up", 1, BOUND_FEN), ("standard_down", -1, standard_fen - 1)):
        def other_standard(fen: int, sign: int = sign) -> dict:
            p = copy.deepcopy(payload)
            p.setdefault("local_policy", {})["dibao_standard"] = (standard_fen + sign * fen) / 100
            return p

        bound = (f"up to {BOUND_YUAN} yuan/month more" if sign > 0
                 else "down to 0.01 yuan")
        boundaries.append(_boundary(
            direction, baseline, limit,
            lambda fen, d=direction, v=other_standard: run(d, fen, v),
            lambda t: t != base_tier,
            lambda fen, s=sign: money((standard_fen + s * fen) / 100), sign=sign,
            nothing=f"the tier does not change with the dibao standard {bound}"))
    return {"baseline": baseline, "boundaries": boundaries}


def _boundary(direction: str, baseline: dict, limit: int, at: Callable[[int], dict],
              moved: Callable[[str], bool], value: Callable[[int], float], *, sign: int,
              nothing: str) -> dict:
    """Bisection on fen in (0, limit]: the smallest amount whose assessment has `moved`."""
    base_tier = baseline["household_tier"]
    if limit <= 0 or not moved(at(limit)["household_tier"]):
        return _none(direction, base_tier, nothing)
    lo, hi = 0, limit  # the tier has not moved at lo, has at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if moved(at(mid)["household_tier"]):
            hi = mid
        else:
            lo = mid
    result = at(hi)
    return {"direction": direction, "change": money(sign * hi / 100), "from_tier": base_tier,
            "to_tier": result["household_tier"], "value": value(hi),
            "explanation": _changed(baseline, result)}


def _none(direction: str, tier: str, note: str) -> dict:
    return {"direction": direction, "change": None, "from_tier": tier, "to_tier": None, "value": None,
            "explanation": [], "note": note}


def _entries(result: dict) -> dict[tuple[str, str | None], dict]:
    return {(e["rule"], e["person"]): e for e in result["explanation"]}


def _changed(baseline: dict, result: dict) -> list[dict]:
    """The counterfactual's explanation entries whose pass/fail differs from the baseline (or
    that the baseline did not test)."""
    before = {key: e["passed"] for key, e in _entries(baseline).items()}
    return [e for e in result["explanation"] if before.get((e["rule"], e["person"])) != e["passed"]]


def _unit_members(payload: dict, entries: dict) -> list[dict]:
    excluded = set(entries[("unit.members", None)]["values"]["excluded"])
    return [m for m in payload["members"] if m["id"] not in excluded]


def _counted(member: dict) -> float:
    income = member.get("income_monthly") or {}
    return float(sum(income.get(item) or 0 for item in model.COUNTED_INCOME_ITEMS))


def _memo(lookup: service.StandardsLookup) -> service.StandardsLookup:
    """The store is asked once, not once per candidate."""
    seen: dict = {}

    def cached(*args: Any) -> Any:
        if args not in seen:
            seen[args] = lookup(*args)
        return seen[args]

    return cached
