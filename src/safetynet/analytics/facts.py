"""Household facts for one month as pure Ibis expressions (backend-agnostic: DuckDB now,
Spark later, the same expressions).

Inputs are Ibis tables:
- `persons`: the registry snapshot on the month's last day, one row per person with a
  current membership: person_id, id_number, sex, birth_date, household_id, relation,
  registered_tier (the person's tier in the register on that day, null if none).
- `households`: household_id, household_no, region_code, registration, registered_tier.
- `feeds`: feed name → the feed's lake rows (typed columns as `feeds.validate` writes them:
  dates date32, money int64 `<name>_fen`, months `YYYY-MM` strings, plus `version`). Every
  feed used below must be given; a feed without files is an empty table of that schema.

Feed rows are matched to persons by `id_number`. A record delivered again with other content
is a correction: only its highest `version` counts (`latest_versions`). Which deliveries
count (e.g. only those up to the month) is the caller's choice of lake files.

Income mapping (social_insurance `kind` → assessment income item, docs/policy.md §3):
- wage → `wage` (counted)
- pension → `transfer` (counted: a retirement pension is transfer income), except a pension
  paid by the urban–rural *resident* scheme (payer/`employer` containing
  RESIDENT_PENSION_MARK, 城乡居民基本养老保险) → `basic_pension` (the central basic pension:
  never counted)
- unemployment_benefit → `transfer` (counted)
- `business`, `property`, `assistance`, `preferential_pension`: no feed carries them; their
  columns are 0 (assistance and preferential pensions are never counted anyway).
Monthly average of an item = its sum over the 12 months to M ÷ the number of months in that
window for which the social_insurance feed holds any row (`income_months_observed`, at least 1),
so two delivered months give a two-month average rather than a twelfth of two months.

Money columns are integer fen (`*_fen`, int64); averages are rounded to whole fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

#: Assessment income items (rules.model.INCOME_ITEMS) and those counted.
INCOME_ITEMS = ("wage", "business", "property", "transfer", "basic_pension", "assistance",
                "preferential_pension")
COUNTED_ITEMS = ("wage", "business", "property", "transfer")
FED_ITEMS = ("wage", "transfer", "basic_pension")  # the items some feed carries
RESIDENT_PENSION_MARK = "城乡居民"
BUSINESS_ROLES = ("legal_rep", "owner", "shareholder")
#: Education stages that make a person a student (preschool does not).
STUDENT_STAGES = ("primary", "junior", "senior", "vocational", "college")
STAGE_RANK = {"preschool": 0, "primary": 1, "junior": 2, "senior": 3, "vocational": 3, "college": 4}
OTHER_VEHICLES = ("truck", "farm")

#: Every output column, documented (person table, then household table).
PERSON_COLUMNS: dict[str, str] = {
    "person_id": "registry person id",
    "id_number": "resident identity number",
    "household_id": "registry household id of the current membership on the month's last day",
    "relation": "relation to the head (register)",
    "sex": "M/F (register)",
    "birth_date": "date of birth (register)",
    "age": "age in completed years (周岁) on the month's last day",
    "registered_tier": "the person's tier in the register on the month's last day (null: none)",
    **{f"income_{i}_month_fen": f"{i} income in month M (fen)" for i in INCOME_ITEMS},
    **{f"income_{i}_12m_fen": f"{i} income over the 12 months to M (fen)" for i in INCOME_ITEMS},
    **{f"income_{i}_avg_fen": f"{i} monthly average over the observed months of the 12 (fen)"
       for i in INCOME_ITEMS},
    "income_months_observed": "months of the 12 to M with any social_insurance delivery (≥1)",
    "counted_income_month_fen": "wage+business+property+transfer in month M (fen)",
    "counted_income_avg_fen": "wage+business+property+transfer monthly average (fen)",
    "excluded_income_avg_fen": "basic_pension+assistance+preferential_pension monthly average (fen)",
    "housing_fund_deposit_month_fen": "housing-fund deposit for month M (fen)",
    "housing_fund_deposit_12m_fen": "housing-fund deposits over the 12 months to M (fen)",
    "deposits_fen": "bank deposits: latest balance per institution dated on/before month end, summed (fen)",
    "homes": "residential properties registered on/before and not deregistered by month end",
    "other_properties": "commercial/other properties active at month end",
    "residential_area_m2": "floor area of the active residential properties",
    "car_count": "cars active at month end",
    "motorcycle_count": "motorcycles active at month end",
    "disability_vehicle_count": "disability vehicles active at month end",
    "other_vehicle_count": "trucks and farm vehicles active at month end",
    "vehicle_value_fen": "purchase price of the vehicles active at month end (fen)",
    "business_capital_fen": "registered capital of active businesses (legal_rep/owner/shareholder), "
                            "established by month end (fen)",
    "business_count": "such businesses",
    "expenditure_medical_12m_fen": "medical out-of-pocket settled in the 12 months to M (fen); "
                                   "total_cost − fund_paid where out_of_pocket is empty",
    "expenditure_medical_month_fen": "medical out-of-pocket settled in month M (fen)",
    "expenditure_education_12m_fen": "annual fees of enrolments overlapping the 12 months (fen)",
    "expenditure_disaster_12m_fen": "disaster loss estimates of events in the 12 months (fen)",
    "disability_grade": "most severe valid disability grade at month end (1 most severe … 4; 0 none)",
    "disability_category": "category of that certificate ('none' without one)",
    "student": "enrolled (primary to college, not preschool) at month end",
    "student_stage": "highest stage enrolled at month end (null if none)",
    "unemployed_registered": "registered unemployed at month end",
    "deceased": "a death record dated on/before month end",
}
HOUSEHOLD_COLUMNS: dict[str, str] = {
    "household_id": "registry household id",
    "household_no": "the register's household number",
    "region_code": "12-digit village/community code",
    "registration": "urban/rural",
    "registered_tier": "the household's tier in the register on the month's last day (null: none)",
    "members": "persons with a current membership on the month's last day",
    **{f"income_{i}_avg_fen": f"members' {i} monthly averages, summed (fen)" for i in INCOME_ITEMS},
    **{f"income_{i}_12m_fen": f"members' {i} over the 12 months, summed (fen)" for i in INCOME_ITEMS},
    "counted_income_month_fen": "counted income of all members in month M (fen)",
    "counted_income_avg_fen": "counted monthly income of all members, average (fen)",
    "per_capita_income_month_fen": "counted income in month M ÷ members (fen, rounded)",
    "per_capita_income_avg_fen": "counted monthly average ÷ members (fen, rounded)",
    "excluded_income_avg_fen": "uncounted items' monthly average, all members (fen)",
    "housing_fund_deposit_12m_fen": "housing-fund deposits over the 12 months, all members (fen)",
    "deposits_fen": "members' deposits (fen)",
    "homes": "members' active residential properties",
    "other_properties": "members' active other properties",
    "residential_area_m2": "their floor area",
    "car_count": "members' active cars", "motorcycle_count": "members' active motorcycles",
    "disability_vehicle_count": "members' active disability vehicles",
    "other_vehicle_count": "members' active trucks/farm vehicles",
    "vehicle_value_fen": "purchase price of those vehicles (fen)",
    "business_capital_fen": "members' business registered capital (fen; an entity two members hold "
                            "is counted for each)",
    "expenditure_medical_12m_fen": "members' medical out-of-pocket, 12 months (fen)",
    "expenditure_education_12m_fen": "members' education fees, 12 months (fen)",
    "expenditure_disaster_12m_fen": "members' disaster losses, 12 months (fen)",
    "disabled_members": "members with a valid disability certificate",
    "severely_disabled_members": "members with grade 1 or 2",
    "students": "members enrolled at month end",
    "elderly_members": "members aged 60 or more",
    "minor_members": "members under 16",
    "unemployed_members": "members registered unemployed",
    "deceased_members": "members with a death record",
}


def month_window(month: str) -> tuple[dt.date, dt.date, str, str]:
    """(first day of the 12-month window, last day of M, first window month label, M label)."""
    y, m = (int(x) for x in month.split("-"))
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    end = nxt - dt.timedelta(days=1)
    wy, wm = (y, m - 11) if m >= 12 else (y - 1, m + 1)
    return dt.date(wy, wm, 1), end, f"{wy:04d}-{wm:02d}", f"{y:04d}-{m:02d}"


def latest_versions(t: ir.Table) -> ir.Table:
    """Each record's current version (a correction replaces what it corrects). Only corrected
    records have a version above 1, and they are few: their latest versions are found apart and
    joined back, instead of a window over every row (which sorts the whole feed: at 10M persons
    the largest single cost of a monitor run)."""
    corrected = t.filter(t.version > 1)
    top = corrected.group_by(_rid=corrected.record_id).aggregate(_top=corrected.version.max())
    t = t.left_join(top, t.record_id == top._rid)
    return t.filter(t._top.isnull() | (t.version == t._top)).drop("_rid", "_top")


def _on_or_before(col: ir.Value, day: dt.date) -> ir.BooleanValue:
    return col.isnull() | (col <= day)


def _active(t: ir.Table, start: str, stop: str, day: dt.date) -> ir.BooleanValue:
    """Begun by `day` (or no date) and not ended by it."""
    return _on_or_before(t[start], day) & (t[stop].isnull() | (t[stop] > day))


def _count(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64").sum()


def _income(si: ir.Table, first_label: str, label: str) -> tuple[ir.Table, ir.Table]:
    s = si.filter((si.month >= first_label) & (si.month <= label))
    resident = s.employer.fill_null("").contains(RESIDENT_PENSION_MARK)
    item = ibis.cases((s.kind == "wage", "wage"),
                      ((s.kind == "pension") & resident, "basic_pension"),
                      else_="transfer")
    s = s.mutate(item=item)
    aggs = {}
    for i in FED_ITEMS:
        aggs[f"income_{i}_month_fen"] = s.amount_fen.sum(where=(s.item == i) & (s.month == label))
        aggs[f"income_{i}_12m_fen"] = s.amount_fen.sum(where=s.item == i)
    per_person = s.group_by("id_number").aggregate(**aggs)
    observed = s.aggregate(income_months_observed=s.month.nunique())
    return per_person, observed


def _assets(feeds: Mapping[str, ir.Table], end: dt.date, first_label: str,
            label: str) -> list[ir.Table]:
    out = []
    v = latest_versions(feeds["vehicle"])
    v = v.filter(_active(v, "registered_on", "deregistered_on", end))
    out.append(v.group_by("id_number").aggregate(
        car_count=_count(v.vehicle_type == "car"),
        motorcycle_count=_count(v.vehicle_type == "motorcycle"),
        disability_vehicle_count=_count(v.vehicle_type == "disability_vehicle"),
        other_vehicle_count=_count(v.vehicle_type.isin(OTHER_VEHICLES)),
        vehicle_value_fen=v.price_fen.sum()))
    p = latest_versions(feeds["property"])
    p = p.filter(_active(p, "registered_on", "deregistered_on", end))
    out.append(p.group_by("id_number").aggregate(
        homes=_count(p.use == "residential"),
        other_properties=_count(p.use != "residential"),
        residential_area_m2=p.area_m2.cast("float64").sum(where=p.use == "residential")))
    b = latest_versions(feeds["business"])
    b = b.filter((b.status == "active") & b.role.isin(BUSINESS_ROLES) & _on_or_before(b.established_on, end))
    out.append(b.group_by("id_number").aggregate(
        business_capital_fen=b.registered_capital_fen.sum(), business_count=b.count()))
    d = latest_versions(feeds["deposits"])
    d = d.filter(d.as_of <= end).mutate(inst=d.institution.fill_null(""))
    d = d.mutate(_last=d.as_of.max().over(group_by=[d.id_number, d.inst]))
    d = d.filter(d.as_of == d._last)
    out.append(d.group_by("id_number").aggregate(deposits_fen=d.balance_fen.sum()))
    h = latest_versions(feeds["housing_fund"])
    h = h.filter((h.month >= first_label) & (h.month <= label))
    out.append(h.group_by("id_number").aggregate(
        housing_fund_deposit_month_fen=h.deposit_fen.sum(where=h.month == label),
        housing_fund_deposit_12m_fen=h.deposit_fen.sum()))
    return out


def _expenditure(feeds: Mapping[str, ir.Table], start: dt.date, end: dt.date) -> list[ir.Table]:
    out = []
    m = latest_versions(feeds["medical"])
    m = m.filter((m.settled_on >= start) & (m.settled_on <= end))
    oop = m.out_of_pocket_fen.fill_null(m.total_cost_fen - m.fund_paid_fen.fill_null(0))
    m = m.mutate(oop=oop)
    month_start = end.replace(day=1)
    out.append(m.group_by("id_number").aggregate(
        expenditure_medical_12m_fen=m.oop.sum(),
        expenditure_medical_month_fen=m.oop.sum(where=m.settled_on >= month_start)))
    e = latest_versions(feeds["education"])
    overlap = _on_or_before(e.enrolled_on, end) & (e.left_on.isnull() | (e.left_on >= start))
    now = _active(e, "enrolled_on", "left_on", end) & e.stage.isin(STUDENT_STAGES)
    rank = e.stage.cases(*STAGE_RANK.items(), else_=None)
    e = e.mutate(now=now, rank=rank)
    out.append(e.group_by("id_number").aggregate(
        expenditure_education_12m_fen=e.annual_fees_fen.sum(where=overlap),
        student=e.now.any(),
        student_stage=e.stage.argmax(e.rank, where=e.now)))
    s = latest_versions(feeds["disaster"])
    s = s.filter((s.occurred_on >= start) & (s.occurred_on <= end))
    out.append(s.group_by("id_number").aggregate(expenditure_disaster_12m_fen=s.loss_estimate_fen.sum()))
    return out


def _status(feeds: Mapping[str, ir.Table], end: dt.date) -> list[ir.Table]:
    out = []
    d = latest_versions(feeds["disability"])
    d = d.filter((d.status == "valid") & _on_or_before(d.issued_on, end) & d.grade.notnull())
    out.append(d.group_by("id_number").aggregate(
        disability_grade=d.grade.min(), disability_category=d.category.argmin(d.grade)))
    u = latest_versions(feeds["unemployment"])
    u = u.filter(_active(u, "registered_on", "ended_on", end))
    out.append(u.group_by("id_number").aggregate(unemployed_registered=u.count() > 0))
    x = latest_versions(feeds["death"])
    x = x.filter(x.death_date <= end)
    out.append(x.group_by("id_number").aggregate(deceased=x.count() > 0))
    return out


def _age(birth: ir.DateValue, on: dt.date) -> ir.IntegerValue:
    before = (birth.month() > on.month) | ((birth.month() == on.month) & (birth.day() > on.day))
    return (on.year - birth.year() - before.cast("int64")).cast("int64")


def person_facts(*, month: str, persons: ir.Table, feeds: Mapping[str, ir.Table]) -> ir.Table:
    """One row per person of `persons`, with the PERSON_COLUMNS."""
    start, end, first_label, label = month_window(month)
    si = latest_versions(feeds["social_insurance"])
    income, observed = _income(si, first_label, label)
    t = persons.mutate(age=_age(persons.birth_date, end))
    for agg in [income, *_assets(feeds, end, first_label, label), *_expenditure(feeds, start, end),
                *_status(feeds, end)]:
        t = t.left_join(agg, "id_number").drop("id_number_right")
    t = t.cross_join(observed)
    fills = {c: 0 for c in PERSON_COLUMNS if c.endswith(("_fen", "_count", "homes", "properties"))}
    fills |= {"residential_area_m2": 0.0, "disability_grade": 0, "disability_category": "none",
              "student": False, "unemployed_registered": False, "deceased": False}
    for i in set(INCOME_ITEMS) - set(FED_ITEMS):
        t = t.mutate(**{f"income_{i}_month_fen": ibis.literal(0, "int64"),
                        f"income_{i}_12m_fen": ibis.literal(0, "int64")})
    t = t.mutate(**{c: t[c].fill_null(v) for c, v in fills.items() if c in t.columns})
    months = ibis.greatest(t.income_months_observed.fill_null(0), 1).cast("int64")
    t = t.mutate(income_months_observed=months, **{
        f"income_{i}_avg_fen": (t[f"income_{i}_12m_fen"] / months).round().cast("int64")
        for i in INCOME_ITEMS})
    t = t.mutate(
        counted_income_month_fen=sum(t[f"income_{i}_month_fen"] for i in COUNTED_ITEMS),
        counted_income_avg_fen=sum(t[f"income_{i}_avg_fen"] for i in COUNTED_ITEMS),
        excluded_income_avg_fen=sum(t[f"income_{i}_avg_fen"] for i in INCOME_ITEMS
                                    if i not in COUNTED_ITEMS))
    return t.select(*PERSON_COLUMNS)


_SUMMED = ("counted_income_month_fen", "counted_income_avg_fen", "excluded_income_avg_fen",
           "housing_fund_deposit_12m_fen", "deposits_fen", "homes", "other_properties",
           "residential_area_m2", "car_count", "motorcycle_count", "disability_vehicle_count",
           "other_vehicle_count", "vehicle_value_fen", "business_capital_fen",
           "expenditure_medical_12m_fen", "expenditure_education_12m_fen", "expenditure_disaster_12m_fen",
           *(f"income_{i}_avg_fen" for i in INCOME_ITEMS), *(f"income_{i}_12m_fen" for i in INCOME_ITEMS))


def household_facts(*, households: ir.Table, person_facts: ir.Table) -> ir.Table:
    """One row per household of `households`, with the HOUSEHOLD_COLUMNS. A household without
    current members has members 0 and zeros elsewhere."""
    p = person_facts
    agg = p.group_by("household_id").aggregate(
        members=p.count(),
        **{c: p[c].sum() for c in _SUMMED},
        disabled_members=_count(p.disability_grade > 0),
        severely_disabled_members=_count(p.disability_grade.isin((1, 2))),
        students=_count(p.student),
        elderly_members=_count(p.age >= 60),
        minor_members=_count(p.age < 16),
        unemployed_members=_count(p.unemployed_registered),
        deceased_members=_count(p.deceased))
    t = households.left_join(agg, "household_id").drop("household_id_right")
    counts = [c for c in HOUSEHOLD_COLUMNS if c not in households.columns and c not in (
        "per_capita_income_month_fen", "per_capita_income_avg_fen")]
    t = t.mutate(**{c: t[c].fill_null(0) for c in counts})
    size = ibis.greatest(t.members, 1)
    t = t.mutate(per_capita_income_month_fen=(t.counted_income_month_fen / size).round().cast("int64"),
                 per_capita_income_avg_fen=(t.counted_income_avg_fen / size).round().cast("int64"))
    return t.select(*HOUSEHOLD_COLUMNS)
