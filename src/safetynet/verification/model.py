"""Family economic-condition verification (家庭经济状况核对, docs/policy.md §3): the authorisation
rules and the report's figures, computed from one household's feed rows. Pure: no I/O.

Every figure is built from the rows listed behind it, so a figure always equals the sum of its
rows. Which rows count follows the batch facts (`analytics.facts`, whose constants are imported
here) so that a household's report and its batch facts agree:
- income: social_insurance rows of the 12 months to M; `kind` → item as `facts` maps it (wage,
  pension → transfer unless paid by the resident scheme → basic_pension, unemployment_benefit →
  transfer); whether an item counts is the rules parameter `income.counted.<item>` at the
  report date (passed in as `counted`); monthly average = 12-month total ÷ the months of the
  window for which the feed holds any row (≥ 1), rounded half away from zero to whole fen;
- assets at the month's last day: vehicles and properties registered and not deregistered;
  active businesses in which the member is legal_rep/owner/shareholder; deposits: the latest
  balance per institution dated on/before the day; housing fund: deposits of the 12 months;
- rigid expenditure over the 12 months: medical out-of-pocket (total_cost − fund_paid where
  out_of_pocket is empty), annual fees of enrolments overlapping the window, disaster loss
  estimates; rehabilitation has no feed;
- status at the month's last day: the most severe valid disability certificate; enrolment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from safetynet.analytics.facts import (
    BUSINESS_ROLES,
    INCOME_ITEMS,
    RESIDENT_PENSION_MARK,
    STAGE_RANK,
    STUDENT_STAGES,
    month_window,
)
from safetynet.errors import SafetynetError

#: What a family may authorise the platform to look at, with the label a clerk sees.
SCOPES: dict[str, str] = {
    "income": "收入（工资、养老金、失业保险金）",
    "assets": "财产（车辆、不动产、工商登记）",
    "deposits": "银行存款",
    "housing_fund": "住房公积金",
    "medical": "医疗费用",
    "education": "教育（在学、学杂费）",
    "disaster": "灾害损失",
}
#: The feeds each scope opens.
SCOPE_FEEDS: dict[str, tuple[str, ...]] = {
    "income": ("social_insurance",),
    "assets": ("vehicle", "property", "business"),
    "deposits": ("deposits",),
    "housing_fund": ("housing_fund",),
    "medical": ("medical",),
    "education": ("education",),
    "disaster": ("disaster",),
}
#: Status feeds read for every verification (civil-affairs facts about the person, not
#: economic data the family authorises): disability certificates and deaths.
STATUS_FEEDS = ("disability", "death")
#: A report asked for without a scope needs at least these: a verification without income
#: and assets is not a verification.
MIN_SCOPE = ("income", "assets")

INCOME_LABELS = {"wage": "工资性收入", "business": "经营净收入", "property": "财产净收入",
                 "transfer": "转移净收入", "basic_pension": "城乡居民基础养老金",
                 "assistance": "社会救助金", "preferential_pension": "优抚金"}
EXPENDITURE_LABELS = {"medical": "医疗自付", "education": "教育费用", "rehabilitation": "康复费用",
                      "disaster": "灾害损失"}
VEHICLE_LABELS = {"car": "小汽车", "truck": "货车", "motorcycle": "摩托车",
                  "disability_vehicle": "残疾人专用车", "farm": "农用车"}
#: Feed vehicle_type → the assess contract's car type.
ASSESS_CAR_TYPE = {"car": "car", "truck": "truck", "motorcycle": "motorcycle",
                   "disability_vehicle": "disability_vehicle", "farm": "machinery"}


class VerificationInputError(SafetynetError):
    """Bad input to a verification use case; `field` names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NotAuthorisedError(SafetynetError):
    """No family authorisation valid on the report date covers what was asked for."""

    def __init__(self, household_no: str, on: dt.date, missing: Iterable[str], *, any_valid: bool) -> None:
        self.household_no, self.on, self.missing = household_no, on, tuple(missing)
        zh = "、".join(f"{SCOPES[s]}({s})" for s in self.missing)
        if any_valid:
            self.message_zh = (f"家庭 {household_no} 在 {on.isoformat()} 有效的核对授权不包含：{zh}。"
                               "请登记家庭签署的相应授权书（safetynet verify authorise）后再核对。")
        else:
            self.message_zh = (f"家庭 {household_no} 在 {on.isoformat()} 没有有效的家庭经济状况核对授权"
                               "（未登记、已过期或已撤销）。请先登记家庭签署的授权书"
                               "（safetynet verify authorise）。")
        what = ", ".join(self.missing)
        self.message_en = (f"household {household_no}: no family authorisation valid on {on.isoformat()} "
                           f"covers {what}; record the family's signed authorisation first "
                           "(safetynet verify authorise)")
        super().__init__(f"{self.message_zh}\n{self.message_en}")


def parse_scope(value: str | Iterable[str], field: str = "scope") -> tuple[str, ...]:
    """'income,assets' or a list → the scopes in canonical order; unknown or empty is an error
    naming the valid values."""
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [str(s).strip() for s in items if str(s).strip()]
    valid = ", ".join(SCOPES)
    if not items:
        raise VerificationInputError(field, f"at least one of {valid}")
    unknown = [s for s in items if s not in SCOPES]
    if unknown:
        raise VerificationInputError(field, f"unknown {', '.join(map(repr, unknown))}; valid: {valid}")
    return tuple(s for s in SCOPES if s in items)


def parse_month(value: str, field: str = "month") -> str:
    import re

    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise VerificationInputError(field, f"a month YYYY-MM, e.g. 2025-07; got {value!r}")
    return value


@dataclass(frozen=True)
class Authorisation:
    id: int
    household_no: str
    signed_on: dt.date
    scope: tuple[str, ...]
    valid_until: dt.date | None
    signer_name: str
    document_ref: str
    recorded_by: str
    recorded_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None

    def status(self, on: dt.date) -> str:
        """valid | revoked | expired | not_yet (signed after `on`)."""
        if self.revoked_at is not None and self.revoked_at.date() <= on:
            return "revoked"
        if self.signed_on > on:
            return "not_yet"
        if self.valid_until is not None and self.valid_until < on:
            return "expired"
        return "valid"


STATUS_LABELS = {"valid": "有效", "revoked": "已撤销", "expired": "已过期", "not_yet": "未生效"}


def authorised_scope(auths: Iterable[Authorisation], on: dt.date) -> set[str]:
    """The union of the scopes of the authorisations valid on `on`."""
    return {s for a in auths if a.status(on) == "valid" for s in a.scope}


def check_authorised(auths: list[Authorisation], *, household_no: str, on: dt.date,
                     requested: Iterable[str]) -> set[str]:
    """The authorised scope on `on`; NotAuthorisedError when it lacks any requested kind."""
    allowed = authorised_scope(auths, on)
    missing = [s for s in SCOPES if s in set(requested) and s not in allowed]
    if missing:
        raise NotAuthorisedError(household_no, on, missing, any_valid=bool(allowed))
    return allowed


# --- figures from rows ------------------------------------------------------------------

def div_round(total: int, n: int) -> int:
    """total / n rounded half away from zero (DuckDB's ROUND, used by the batch facts)."""
    q, r = divmod(abs(total) * 2 + n, 2 * n)
    return q if total >= 0 else -q


def income_item(kind: str, employer: str | None) -> str:
    """A social_insurance row's assessment income item (as `analytics.facts` maps it)."""
    if kind == "wage":
        return "wage"
    if kind == "pension" and RESIDENT_PENSION_MARK in (employer or ""):
        return "basic_pension"
    return "transfer"


def _on_or_before(day: dt.date | None, end: dt.date) -> bool:
    return day is None or day <= end


def _active(start: dt.date | None, stop: dt.date | None, end: dt.date) -> bool:
    return _on_or_before(start, end) and (stop is None or stop > end)


def _registered(r: dict, end: dt.date) -> bool:
    return _active(r.get("registered_on"), r.get("deregistered_on"), end)


def window_months(month: str) -> list[str]:
    _, _, first, _ = month_window(month)
    y, m = (int(x) for x in first.split("-"))
    out = []
    for _ in range(12):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass
class Figure:
    """An amount (fen) or a count with the rows behind it; `amount` = sum of the rows'
    `amount_fen` for money figures."""

    amount: int = 0
    rows: list[dict] = field(default_factory=list)

    def add(self, row: dict, amount: int | None) -> None:
        self.rows.append(row)
        self.amount += amount or 0


def income(rows: list[dict], *, month: str, counted: Mapping[str, bool],
           months_observed: int) -> dict[str, dict]:
    """Per income item: monthly figures over the window, 12-month total, average, counted."""
    months = window_months(month)
    items: dict[str, dict] = {}
    for item in INCOME_ITEMS:
        items[item] = {"item": item, "label": INCOME_LABELS[item], "counted": bool(counted[item]),
                       "months": {m: 0 for m in months}, "total_12m_fen": 0, "rows": []}
    for r in rows:
        if r["month"] not in items["wage"]["months"]:
            continue
        it = items[income_item(r["kind"], r.get("employer"))]
        amount = r.get("amount_fen") or 0
        it["months"][r["month"]] += amount
        it["total_12m_fen"] += amount
        it["rows"].append(r)
    n = max(months_observed, 1)
    for it in items.values():
        it["month_fen"] = it["months"][month]
        it["average_fen"] = div_round(it["total_12m_fen"], n)
    return items


def assets(feed_rows: Mapping[str, list[dict]], *, month: str) -> dict[str, Any]:
    """Vehicles, properties, businesses, deposits and housing fund of one person (the feeds
    given; a feed not given is not reported)."""
    _, end, first, label = month_window(month)
    out: dict[str, Any] = {}
    if "vehicle" in feed_rows:
        active = [r for r in feed_rows["vehicle"] if _registered(r, end)]
        out["vehicles"] = {"count": len(active), "value_fen": sum(r.get("price_fen") or 0 for r in active),
                           "by_type": {t: sum(r["vehicle_type"] == t for r in active)
                                       for t in VEHICLE_LABELS},
                           "rows": active}
    if "property" in feed_rows:
        active = [r for r in feed_rows["property"] if _registered(r, end)]
        homes = [r for r in active if r.get("use") == "residential"]
        out["property"] = {"homes": len(homes), "other": len(active) - len(homes),
                           "residential_area_m2": float(sum(r.get("area_m2") or 0 for r in homes)),
                           "rows": active}
    if "business" in feed_rows:
        active = [r for r in feed_rows["business"] if r.get("status") == "active"
                  and r.get("role") in BUSINESS_ROLES and _on_or_before(r.get("established_on"), end)]
        out["business"] = {"count": len(active),
                           "capital_fen": sum(r.get("registered_capital_fen") or 0 for r in active),
                           "rows": active}
    if "deposits" in feed_rows:
        dated = [r for r in feed_rows["deposits"] if r.get("as_of") is not None and r["as_of"] <= end]
        last: dict[str, dt.date] = {}
        for r in dated:
            inst = r.get("institution") or ""
            last[inst] = max(last.get(inst, r["as_of"]), r["as_of"])
        latest = [r for r in dated if r["as_of"] == last[r.get("institution") or ""]]
        out["deposits"] = {"balance_fen": sum(r.get("balance_fen") or 0 for r in latest), "rows": latest}
    if "housing_fund" in feed_rows:
        inside = [r for r in feed_rows["housing_fund"] if first <= (r.get("month") or "") <= label]
        out["housing_fund"] = {
            "total_12m_fen": sum(r.get("deposit_fen") or 0 for r in inside),
            "month_fen": sum(r.get("deposit_fen") or 0 for r in inside if r["month"] == label),
            "rows": inside}
    return out


def medical_out_of_pocket(r: dict) -> int | None:
    if r.get("out_of_pocket_fen") is not None:
        return r["out_of_pocket_fen"]
    if r.get("total_cost_fen") is None:
        return None
    return r["total_cost_fen"] - (r.get("fund_paid_fen") or 0)


def expenditure(feed_rows: Mapping[str, list[dict]], *, month: str) -> dict[str, dict]:
    """Rigid expenditure of the 12 months to M, by item (the feeds given)."""
    start, end, _, _ = month_window(month)
    out: dict[str, dict] = {}
    if "medical" in feed_rows:
        rows = [r | {"amount_fen": medical_out_of_pocket(r)} for r in feed_rows["medical"]
                if r.get("settled_on") is not None and start <= r["settled_on"] <= end]
        out["medical"] = {"total_12m_fen": sum(r["amount_fen"] or 0 for r in rows), "rows": rows}
    if "education" in feed_rows:
        rows = [r for r in feed_rows["education"] if _on_or_before(r.get("enrolled_on"), end)
                and (r.get("left_on") is None or r["left_on"] >= start)]
        out["education"] = {"total_12m_fen": sum(r.get("annual_fees_fen") or 0 for r in rows), "rows": rows}
    out["rehabilitation"] = {"total_12m_fen": 0, "rows": [], "no_source": True}
    if "disaster" in feed_rows:
        rows = [r for r in feed_rows["disaster"]
                if r.get("occurred_on") is not None and start <= r["occurred_on"] <= end]
        out["disaster"] = {"total_12m_fen": sum(r.get("loss_estimate_fen") or 0 for r in rows), "rows": rows}
    return out


def status(feed_rows: Mapping[str, list[dict]], *, month: str) -> dict[str, Any]:
    """Disability (most severe valid certificate), enrolment, death at the month's last day."""
    _, end, _, _ = month_window(month)
    out: dict[str, Any] = {"disability": None, "disability_rows": [], "student": False,
                           "student_stage": None, "student_rows": [], "deceased": False, "death_rows": []}
    valid = [r for r in feed_rows.get("disability", []) if r.get("status") == "valid"
             and _on_or_before(r.get("issued_on"), end) and r.get("grade") is not None]
    if valid:
        best = min(valid, key=lambda r: r["grade"])
        out["disability"] = {"category": best["category"], "grade": int(best["grade"])}
        out["disability_rows"] = [best]
    enrolled = [r for r in feed_rows.get("education", []) if r.get("stage") in STUDENT_STAGES
                and _active(r.get("enrolled_on"), r.get("left_on"), end)]
    if enrolled:
        top = max(enrolled, key=lambda r: STAGE_RANK[r["stage"]])
        out |= {"student": True, "student_stage": top["stage"], "student_rows": enrolled}
    deaths = [r for r in feed_rows.get("death", [])
              if r.get("death_date") is not None and r["death_date"] <= end]
    out |= {"deceased": bool(deaths), "death_rows": deaths}
    return out
