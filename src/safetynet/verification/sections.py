"""The verification report's sections, built from one household's feed rows (pure, no I/O):
per member, the household totals, the deductions, and the rules engine's input (the `assess`
contract, docs/contracts/assess.md). Every listed row is a `trace`: feed, lake file, load, line,
record_id, version, date and the amount it contributes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetynet.analytics.facts import INCOME_ITEMS
from safetynet.registry.model import RELATION_LABELS
from safetynet.verification import model

#: feed → (its date or month column, the column whose amount the row contributes, detail columns)
TRACE_FIELDS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "social_insurance": ("month", "amount_fen", ("kind", "employer")),
    "vehicle": ("registered_on", "price_fen", ("vehicle_type", "plate", "deregistered_on")),
    "property": ("registered_on", None, ("use", "area_m2", "property_no", "deregistered_on")),
    "business": ("established_on", "registered_capital_fen", ("entity_name", "role", "status")),
    "deposits": ("as_of", "balance_fen", ("institution",)),
    "housing_fund": ("month", "deposit_fen", ()),
    "medical": ("settled_on", "amount_fen", ("kind", "total_cost_fen", "fund_paid_fen", "out_of_pocket_fen")),
    "education": ("enrolled_on", "annual_fees_fen", ("stage", "school", "left_on")),
    "disaster": ("occurred_on", "loss_estimate_fen", ("event_type",)),
    "disability": ("issued_on", None, ("category", "grade", "status")),
    "death": ("death_date", None, ("source",)),
}
ASSET_FEEDS = ("vehicle", "property", "business", "deposits", "housing_fund")
EXPENDITURE_FEEDS = ("medical", "education", "disaster")


def _plain(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "as_integer_ratio") and not isinstance(v, int | float):  # Decimal
        return float(v)
    return v


def _file(path: str | None, lake_dir: Path) -> str | None:
    if not path:
        return None
    p = Path(path)
    try:
        return p.resolve().relative_to(lake_dir.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def trace(row: dict, lake_dir: Path) -> dict:
    """The provenance of one feed row and what it contributes."""
    feed = row["_feed"]
    date_col, amount_col, detail = TRACE_FIELDS[feed]
    return {"feed": feed, "file": _file(row.get("_file"), lake_dir), "load_id": row.get("load_id"),
            "line": row.get("line"), "record_id": row.get("record_id"), "version": row.get("version"),
            "date": _plain(row.get(date_col)),
            "amount_fen": row.get(amount_col) if amount_col else None,
            "detail": {c: _plain(row.get(c)) for c in detail}}


def _traced(obj: Any, lake_dir: Path) -> Any:
    """Replace every raw feed row (a dict with `_feed`) by its trace, recursively."""
    if isinstance(obj, dict):
        if "_feed" in obj:
            return trace(obj, lake_dir)
        return {k: _traced(v, lake_dir) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_traced(v, lake_dir) for v in obj]
    return _plain(obj)


def member_section(*, key: str, member: dict, rows: Mapping[str, list[dict]], month: str,
                   counted: Mapping[str, dict], months_observed: int, lake_dir: Path) -> dict:
    """One member: income by item (if authorised), assets, rigid expenditure, status."""
    sec: dict[str, Any] = {"key": key, **member,
                           "relation_label": RELATION_LABELS.get(member["relation"], member["relation"])}
    if "social_insurance" in rows:
        items = model.income(rows["social_insurance"], month=month,
                             counted={k: v["counted"] for k, v in counted.items()},
                             months_observed=months_observed)
        for item, it in items.items():
            it["reference"] = counted[item]["reference"]
            it["parameter"] = counted[item]["parameter"]
        listed = list(items.values())
        sec["income"] = {
            "items": listed,
            "counted_month_fen": sum(i["month_fen"] for i in listed if i["counted"]),
            "counted_12m_fen": sum(i["total_12m_fen"] for i in listed if i["counted"]),
            "excluded_12m_fen": sum(i["total_12m_fen"] for i in listed if not i["counted"]),
            "counted_average_fen": sum(i["average_fen"] for i in listed if i["counted"]),
            "excluded_average_fen": sum(i["average_fen"] for i in listed if not i["counted"]),
        }
    else:
        sec["income"] = None
    sec["assets"] = model.assets({f: rows[f] for f in ASSET_FEEDS if f in rows}, month=month)
    sec["expenditure"] = model.expenditure({f: rows[f] for f in EXPENDITURE_FEEDS if f in rows}, month=month)
    sec["status"] = model.status(rows, month=month)
    return _traced(sec, lake_dir)


def totals(members: list[dict], *, shown: tuple[str, ...], counted: Mapping[str, dict],
           edge_expenditure_type: bool) -> dict:
    """Household totals: sums of the members' figures (so of the rows behind them)."""
    n = len(members)
    out: dict[str, Any] = {"members": n}
    if "income" in shown:
        items = {}
        for item in INCOME_ITEMS:
            per = [next(i for i in m["income"]["items"] if i["item"] == item) for m in members]
            months = {k: sum(p["months"][k] for p in per) for k in per[0]["months"]}
            items[item] = {"item": item, "label": model.INCOME_LABELS[item],
                           "counted": counted[item]["counted"], "months": months,
                           "month_fen": sum(p["month_fen"] for p in per),
                           "total_12m_fen": sum(p["total_12m_fen"] for p in per),
                           "average_fen": sum(p["average_fen"] for p in per)}
        inc = {k: sum(m["income"][k] for m in members) for k in (
            "counted_month_fen", "counted_12m_fen", "excluded_12m_fen", "counted_average_fen",
            "excluded_average_fen")}
        out["income"] = {"items": list(items.values()), **inc,
                         "per_capita_counted_average_fen": model.div_round(inc["counted_average_fen"], n),
                         "per_capita_counted_month_fen": model.div_round(inc["counted_month_fen"], n)}
    assets: dict[str, Any] = {}
    a = [m["assets"] for m in members]
    if "assets" in shown:
        assets["vehicles"] = {
            "count": sum(x["vehicles"]["count"] for x in a),
            "value_fen": sum(x["vehicles"]["value_fen"] for x in a),
            "by_type": {t: sum(x["vehicles"]["by_type"][t] for x in a) for t in model.VEHICLE_LABELS}}
        assets["property"] = {"homes": sum(x["property"]["homes"] for x in a),
                              "other": sum(x["property"]["other"] for x in a),
                              "residential_area_m2": sum(x["property"]["residential_area_m2"] for x in a)}
        assets["business"] = {"count": sum(x["business"]["count"] for x in a),
                              "capital_fen": sum(x["business"]["capital_fen"] for x in a)}
    if "deposits" in shown:
        assets["deposits"] = {"balance_fen": sum(x["deposits"]["balance_fen"] for x in a)}
    if "housing_fund" in shown:
        assets["housing_fund"] = {"total_12m_fen": sum(x["housing_fund"]["total_12m_fen"] for x in a),
                                  "month_fen": sum(x["housing_fund"]["month_fen"] for x in a)}
    out["assets"] = assets
    exp = {}
    for item in ("medical", "education", "rehabilitation", "disaster"):
        present = [m["expenditure"][item] for m in members if item in m["expenditure"]]
        if present:
            exp[item] = {"label": model.EXPENDITURE_LABELS[item],
                         "total_12m_fen": sum(p["total_12m_fen"] for p in present),
                         "no_source": any(p.get("no_source") for p in present)}
    out["expenditure"] = exp
    rigid = sum(e["total_12m_fen"] for e in exp.values())
    out["deductions"] = [
        {"item": "rigid_expenditure_12m", "label": "刚性支出扣减（医疗、教育、康复、灾害）",
         "amount_fen": rigid, "applied": edge_expenditure_type,
         "basis": "rules: edge_deductible_expenditure_12m, deducted in the dibao-edge expenditure-type test "
                  "when the parameter edge.expenditure_type is on (低保边缘家庭认定 支出型)"},
        {"item": "employment_costs", "label": "必要就业成本", "amount_fen": 0, "applied": False,
         "basis": "no rule parameter: a local policy (e.g. 10% of the minimum wage) not encoded in "
                  "the rules"},
    ]
    return out


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


def assess_input(report: dict, *, as_of: dt.date) -> dict:
    """The `assess` contract's input from the report's figures (money fen → yuan). Only what
    the data says: self-care, supporter, prison, critical illness take the contract's defaults;
    local standards come from the store at assessment time."""
    members = []
    for m in report["members"]:
        entry: dict[str, Any] = {"id": m["key"], "birth_date": m["birth_date"], "relation": m["relation"],
                                 "student": bool(m["status"]["student"])}
        if m["status"]["disability"]:
            entry["disability"] = dict(m["status"]["disability"])
        if m["income"] is not None:
            entry["income_monthly"] = {i["item"]: _yuan(i["average_fen"]) for i in m["income"]["items"]}
        members.append(entry)
    t = report["totals"]
    out: dict[str, Any] = {"as_of": as_of.isoformat(), "region": report["region_code"],
                           "registration": report["registration"], "members": members}
    assets: dict[str, Any] = {}
    if "vehicles" in t["assets"]:
        cars = [{"type": model.ASSESS_CAR_TYPE[r["detail"]["vehicle_type"]],
                 "price": _yuan(r["amount_fen"] or 0)}
                for m in report["members"] for r in m["assets"]["vehicles"]["rows"]]
        assets |= {"homes": t["assets"]["property"]["homes"], "cars": cars,
                   "business_capital": _yuan(t["assets"]["business"]["capital_fen"])}
    if "deposits" in t["assets"]:
        assets["deposits"] = _yuan(t["assets"]["deposits"]["balance_fen"])
    if assets:
        out["assets"] = assets
    out["expenditure_12m"] = {k: _yuan(v["total_12m_fen"]) for k, v in t["expenditure"].items()}
    return out
