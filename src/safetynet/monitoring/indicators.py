"""The indicators the catalogue's rules name, one Ibis function each (the same expressions on DuckDB
and Spark).

An indicator takes the run's shared `Inputs` and its rule (for the rule's dated parameters) and
returns candidate rows in one shape, `CANDIDATE_SCHEMA`:
- id_number: the person the warning names;
- score: the number a graded rule's levels compare with its thresholds (a ratio, a count, months; null
  for single-level rules); amount_fen instead when the indicator is money (integer fen, never float);
- region: the 12-digit region code the department gave on the rows, for people the register does not
  know (null otherwise);
- evidence: the rows behind it, [{feed, record_id, month}].
Population, level and display are the engine's (engine.py): an indicator only says who meets the
condition this month. "This month" is the run's month M: new events are those dated inside M, or
dated before M and first reported in M's delivery (a department reporting late: the runs before M did
not have them; `_new_in_month`); states (a car held, a death recorded) on M's last day, every month
they hold.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from safetynet.analytics.facts import _age
from safetynet.monitoring.catalogue import ENROLLED_TIERS, Rule
from safetynet.monitoring.inputs import Inputs, counted_income_rows, month_has_rows, window_income

EVIDENCE_TYPE = dt.Array(dt.Struct({"feed": dt.string, "record_id": dt.string, "month": dt.string}))
CANDIDATE_SCHEMA = ibis.schema({"id_number": "string", "score": "float64", "amount_fen": "int64",
                                "region": "string", "evidence": EVIDENCE_TYPE})
#: a ratio with nothing to divide by (no counted income at all) counts as above any threshold
UNBOUNDED_RATIO = 1e9

Indicator = Callable[[Inputs, Rule], ir.Table]
INDICATORS: dict[str, Indicator] = {}
#: parameters each indicator reads (checked against the catalogue before a run)
PARAMETERS: dict[str, tuple[str, ...]] = {}
#: how the engine shows an indicator's score: ratio | percent_drop | fen | count | months | none
DISPLAY: dict[str, str] = {}


def indicator(name: str, *, params: tuple[str, ...] = (), display: str = "none") -> Callable[[Indicator],
                                                                                             Indicator]:
    def register(fn: Indicator) -> Indicator:
        INDICATORS[name], PARAMETERS[name], DISPLAY[name] = fn, params, display
        return fn
    return register


# --- helpers ------------------------------------------------------------------------------------

def _month_of(day: ir.DateValue) -> ir.StringValue:
    return day.strftime("%Y-%m")


def _evidence(t: ir.Table, feed: str, day: ir.DateValue | ir.StringValue | str) -> ir.StructValue:
    """One evidence entry per row: its feed, record id and month (a date's month, a YYYY-MM column, or
    a month label)."""
    if isinstance(day, str):
        month = ibis.literal(day)
    elif isinstance(day, ir.StringValue):
        month = day
    else:
        month = _month_of(day)
    return ibis.struct({"feed": ibis.literal(feed), "record_id": t.record_id, "month": month})


def _in_month(day: ir.DateValue, x: Inputs) -> ir.BooleanValue:
    return (day >= x.first) & (day <= x.end)


def _new_in_month(t: ir.Table, day: ir.DateValue, x: Inputs) -> ir.BooleanValue:
    """An event of `t` (a feed read with `reported=True`) that is news in M: dated inside M, or dated
    before M and first reported in M's delivery — no earlier run had it. After M: not yet."""
    return _in_month(day, x) | ((day < x.first) & t.reported_now)


def _active(t: ir.Table, start: str, stop: str, x: Inputs) -> ir.BooleanValue:
    """Begun by the month's end (or undated) and not ended by it."""
    return (t[start].isnull() | (t[start] <= x.end)) & (t[stop].isnull() | (t[stop] > x.end))


def _shape(t: ir.Table, score: ir.Value | None = None, *, fen: ir.Value | None = None) -> ir.Table:
    """`t` (id_number, region, evidence, …) in CANDIDATE_SCHEMA."""
    s = ibis.null("float64") if score is None else score.cast("float64")
    f = ibis.null("int64") if fen is None else fen.cast("int64")
    return t.select(id_number=t.id_number, score=s, amount_fen=f, region=t.region.cast("string"),
                    evidence=t.evidence.cast(EVIDENCE_TYPE))


def _per_person(t: ir.Table, feed: str, day: ir.DateValue | str, **aggs: ir.Value) -> ir.Table:
    """Rows of a feed grouped per person, with their region and evidence."""
    return t.group_by("id_number").aggregate(region=t.region.max(),
                                             evidence=_evidence(t, feed, day).collect(), **aggs)


def _empty() -> ir.Table:
    return ibis.memtable(CANDIDATE_SCHEMA.to_pyarrow().empty_table())


def _household_heads(x: Inputs) -> ir.Table:
    """household_id → the id_number a household-level warning names: the head, else the member
    with the lowest person id."""
    p = x.people
    key = ibis.cases((p.relation == "head", 0), else_=1).cast("int64") * 10_000_000_000 + p.person_id
    return p.group_by("household_id").aggregate(id_number=p.id_number.argmin(key))


def _with_assessment_evidence(t: ir.Table, x: Inputs) -> ir.Table:
    """Household-level assessment rows: the run behind them is the evidence; no feed region."""
    ev = ibis.struct({"feed": ibis.literal("assessment"),
                      "record_id": ibis.literal("run ") + t.run_id.cast("string"),
                      "month": ibis.literal(x.month)})
    return t.mutate(region=ibis.null("string"), evidence=ibis.array([ev]))


def _deaths(x: Inputs, in_month_only: bool) -> ir.Table:
    """Death records dated up to the month's end (or new in the month): the death feed and the
    population feed's death events, per person with evidence."""
    d = x.feed("death", reported=in_month_only)
    d = d.filter(_new_in_month(d, d.death_date, x) if in_month_only else d.death_date <= x.end)
    d = d.select("id_number", "record_id", "region", day=d.death_date, feed=ibis.literal("death"))
    p = x.feed("population", reported=in_month_only)
    p = p.filter(p.event == "death")
    p = p.filter(_new_in_month(p, p.event_date, x) if in_month_only else p.event_date <= x.end)
    p = p.select("id_number", "record_id", "region", day=p.event_date, feed=ibis.literal("population"))
    u = d.union(p)
    u = u.filter(u.id_number.notnull())
    ev = ibis.struct({"feed": u.feed, "record_id": u.record_id, "month": _month_of(u.day)})
    return u.group_by("id_number").aggregate(region=u.region.max(), evidence=ev.collect())


# --- entry side ---------------------------------------------------------------------------------

def _medical_costs(x: Inputs) -> ir.Table:
    """Per person with a settlement new in M (dated in M, or reported late in M's delivery, inside the
    12 months): out-of-pocket cost of those and over the 12 months, and the income it is measured
    against (the household's over 12 months for the register's people; a person only a feed knows,
    their own)."""
    m = x.feed("medical", reported=True)
    m = m.filter((m.settled_on >= x.window_start) & (m.settled_on <= x.end))
    m = m.mutate(oop=m.out_of_pocket_fen.fill_null(m.total_cost_fen - m.fund_paid_fen.fill_null(0)))
    now = _new_in_month(m, m.settled_on, x)
    agg = m.group_by("id_number").aggregate(
        oop_month=m.oop.sum(where=now), oop_12m=m.oop.sum(), region=m.region.max(),
        evidence=_evidence(m, "medical", m.settled_on).collect(where=now))
    agg = agg.filter(agg.oop_month.notnull())  # only people with a settlement this month: news to act on
    own = x.income.select("id_number", own_12m=x.income.income_12m_fen)
    who = x.people.select("id_number", "household_id")
    a = agg.left_join(who, "id_number").drop("id_number_right")
    a = a.left_join(x.household_income, "household_id").drop("household_id_right")
    a = a.left_join(own, "id_number").drop("id_number_right")
    income = ibis.cases((a.household_id.notnull(), a.household_income_12m_fen.fill_null(0)),
                        else_=a.own_12m.fill_null(0))
    return a.select("id_number", "oop_month", "oop_12m", "region", "evidence", income=income)


def _medical(x: Inputs, rule: Rule, which: str) -> ir.Table:
    a = x.shared("medical_costs", lambda: _medical_costs(x))
    income = a.income

    def ratio(oop: ir.IntegerValue) -> ir.FloatingValue:
        return ibis.cases((oop <= 0, 0.0), (income > 0, oop.cast("float64") / income.cast("float64")),
                          else_=UNBOUNDED_RATIO)

    floor = rule.value("oop_floor", x.end)
    if which == "month":
        return _shape(a.filter(a.oop_month >= floor), ratio(a.oop_month))
    # The year's costs are news only in the month they reach a level: a chronic patient's bills, every
    # month the same, would otherwise re-raise the same warning all year.
    # below the floor a cost is not "large" at any ratio: reaching the floor is reaching a level
    earlier = a.oop_12m - a.oop_month
    after = ratio(a.oop_12m)
    before = ibis.cases((earlier < floor, 0.0), else_=ratio(earlier))
    crossed = ibis.or_(*((before < float(t)) & (after >= float(t)) for _, t in rule.thresholds(x.end)))
    return _shape(a.filter((a.oop_12m >= floor) & crossed), after)


@indicator("medical_oop_ratio_month", params=("oop_floor",), display="ratio")
def medical_oop_ratio_month(x: Inputs, rule: Rule) -> ir.Table:
    """Out-of-pocket medical cost settled in M ÷ the household's counted income over 12 months."""
    return _medical(x, rule, "month")


@indicator("medical_oop_ratio_12m", params=("oop_floor",), display="ratio")
def medical_oop_ratio_12m(x: Inputs, rule: Rule) -> ir.Table:
    """Out-of-pocket cost over the 12 months to M ÷ the household's counted income over them, for
    people whose settlements in M took it across one of the rule's thresholds."""
    return _medical(x, rule, "12m")


@indicator("income_drop_share_6m", params=("drop_share", "mean_months", "min_history_months"),
           display="percent_drop")
def income_drop_share_6m(x: Inputs, rule: Rule) -> ir.Table:
    """Share by which a person's counted income in M fell below their mean over the previous months
    (`mean_months` of them, months the feed did not deliver left out); people with fewer than
    `min_history_months` months of rows, or who died, are not compared."""
    n = min(int(rule.value("mean_months", x.end)), len(x.labels) - 1)
    need = int(rule.value("min_history_months", x.end))
    prev = [k for k in range(1, n + 1) if x.delivered[k]]
    if not x.delivered[0]:
        x.notes.append(f"{rule.id}: social_insurance has no rows for {x.month}; income not compared")
        return _empty()
    if len(prev) < max(need, 1):
        x.notes.append(f"{rule.id}: social_insurance delivered {len(prev)} of the {n} months before "
                       f"{x.month}; {need} needed")
        return _empty()
    earlier = x.shared(f"income_months_{'_'.join(map(str, prev))}",
                       lambda: window_income(x.feed("social_insurance"), x.labels, prev))
    i = x.income.left_join(earlier, "id_number").drop("id_number_right")
    mean = i.income_fen.fill_null(0).cast("float64") / len(prev)
    history = sum(month_has_rows(i.rows_by_month, k) for k in prev)
    share = (mean - i.income_month_fen.fill_null(0).cast("float64")) / mean
    i = i.select("id_number", share=share, mean=mean, history=history)
    i = i.filter((i.history >= need) & (i.mean > 0) & (i.share >= float(rule.value("drop_share", x.end))))
    dead = _deaths(x, in_month_only=False).select("id_number")
    i = i.anti_join(dead, "id_number")
    si = counted_income_rows(x.feed("social_insurance"), x.labels[:2])  # the counted rows of M and M−1
    si = si.semi_join(i, "id_number")
    ev = si.group_by("id_number").aggregate(evidence=_evidence(si, "social_insurance", si.month).collect())
    out = i.left_join(ev, "id_number").drop("id_number_right")
    out = out.mutate(region=ibis.null("string"),
                     evidence=out.evidence.fill_null(ibis.literal([], type=EVIDENCE_TYPE)))
    return _shape(out, out.share)


@indicator("new_valid_disability_certificate", params=("max_grade",))
def new_valid_disability_certificate(x: Inputs, rule: Rule) -> ir.Table:
    """A valid certificate (of grade `max_grade` or more severe) new in M, for a person with no valid
    certificate known before (issued before M and not itself first reported in M)."""
    d = x.feed("disability", reported=True)
    d = d.filter((d.status == "valid") & d.grade.notnull())
    before = d.filter((d.issued_on < x.first) & ~d.reported_now).select("id_number")
    new = d.filter(_new_in_month(d, d.issued_on, x) & (d.grade <= int(rule.value("max_grade", x.end))))
    new = new.anti_join(before, "id_number")
    return _shape(_per_person(new, "disability", new.issued_on))


@indicator("main_earner_died", params=("earner_window_months",))
def main_earner_died(x: Inputs, rule: Rule) -> ir.Table:
    """A death new in M of the household member with the highest counted income over the window
    (which must be above zero)."""
    months = min(int(rule.value("earner_window_months", x.end)), len(x.labels))
    if months == len(x.labels):
        inc = x.income.select("id_number", earned=x.income.income_12m_fen)
    else:
        inc = x.shared(f"income_months_{'_'.join(map(str, range(months)))}",
                       lambda: window_income(x.feed("social_insurance"), x.labels, list(range(months))))
        inc = inc.select("id_number", earned=inc.income_fen)
    p = x.people.select("id_number", "household_id").left_join(inc, "id_number").drop("id_number_right")
    p = p.mutate(earned=p.earned.fill_null(0))
    p = p.mutate(top=p.earned.max().over(group_by=p.household_id))
    earners = p.filter((p.earned == p.top) & (p.earned > 0)).select("id_number")
    deaths = _deaths(x, in_month_only=True).semi_join(earners, "id_number")
    return _shape(deaths)


@indicator("new_unemployment_registration", params=("working_age_min", "working_age_below"))
def new_unemployment_registration(x: Inputs, rule: Rule) -> ir.Table:
    """An unemployment registration new in M of a person of working age on M's last day."""
    u = x.feed("unemployment", reported=True)
    u = u.filter(_new_in_month(u, u.registered_on, x)
                 & (u.ended_on.isnull() | (u.ended_on > u.registered_on)))
    ages = x.people.select("id_number", age=_age(x.people.birth_date, x.end))
    u = u.join(ages, "id_number")
    u = u.filter((u.age >= int(rule.value("working_age_min", x.end)))
                 & (u.age < int(rule.value("working_age_below", x.end))))
    return _shape(_per_person(u, "unemployment", u.registered_on))


@indicator("entered_fee_stage", params=("stages_counted",))
def entered_fee_stage(x: Inputs, rule: Rule) -> ir.Table:
    """An enrolment new in M at a counted school stage."""
    e = x.feed("education", reported=True)
    e = e.filter(_new_in_month(e, e.enrolled_on, x) & e.stage.isin(list(rule.value("stages_counted", x.end))))
    return _shape(_per_person(e, "education", e.enrolled_on))


@indicator("disaster_loss_amount", display="fen")
def disaster_loss_amount(x: Inputs, rule: Rule) -> ir.Table:
    """Disaster losses (fen) of events new in M, summed per person."""
    d = x.feed("disaster", reported=True)
    d = d.filter(_new_in_month(d, d.occurred_on, x))
    agg = _per_person(d, "disaster", d.occurred_on, loss=d.loss_estimate_fen.fill_null(0).sum())
    return _shape(agg, fen=agg.loss)


@indicator("hotline_help_requests", params=("categories",), display="count")
def hotline_help_requests(x: Inputs, rule: Rule) -> ir.Table:
    """12345 calls new in M in a counted category, per person."""
    h = x.feed("hotline", reported=True)
    h = h.filter(_new_in_month(h, h.received_at, x) & h.category.isin(list(rule.value("categories", x.end))))
    agg = _per_person(h, "hotline", h.received_at, calls=h.count())
    return _shape(agg, agg.calls)


@indicator("anti_relapse_identified", params=("types",))
def anti_relapse_identified(x: Inputs, rule: Rule) -> ir.Table:
    """Identified as an anti-relapse target of a counted type, new in M, and not removed by M's end."""
    a = x.feed("anti_relapse", reported=True)
    a = a.filter(_new_in_month(a, a.identified_on, x) & a.type.isin(list(rule.value("types", x.end)))
                 & (a.removed_on.isnull() | (a.removed_on > x.end)))
    return _shape(_per_person(a, "anti_relapse", a.identified_on))


# --- exit side ----------------------------------------------------------------------------------

@indicator("enrolled_person_died")
def enrolled_person_died(x: Inputs, rule: Rule) -> ir.Table:
    """A death recorded on or before M's last day (the engine keeps those still enrolled then)."""
    return _shape(_deaths(x, in_month_only=False))


@indicator("months_income_above_tier_line", display="months")
def months_income_above_tier_line(x: Inputs, rule: Rule) -> ir.Table:
    """Consecutive months, ending in M, in which the batch assessment found an enrolled household's
    per-capita income above the dibao standard and assessed it out of (or below) its tier. A month
    without an assessment breaks the run."""
    a = x.assessment
    above = (a.registered_tier.isin(list(ENROLLED_TIERS)) & a.change.isin(["exit", "down"])
             & (a.per_capita_income_fen > a.dibao_standard_fen))
    a = a.mutate(above=above)
    flags = a.group_by("household_id").aggregate(
        run_id=a.run_id.max(where=a.month == x.month),
        **{f"f{k}": a.above.any(where=a.month == label) for k, label in enumerate(x.labels)})
    streak = ibis.cases(*((~flags[f"f{k}"].fill_null(False), k) for k in range(len(x.labels))),
                        else_=len(x.labels))
    flags = flags.mutate(streak=streak).filter(lambda t: t.streak > 0)
    heads = _household_heads(x)
    out = flags.join(heads, "household_id")
    out = _with_assessment_evidence(out, x)
    return _shape(out, out.streak)


@indicator("counted_vehicles_registered", params=("vehicle_types_counted",), display="count")
def counted_vehicles_registered(x: Inputs, rule: Rule) -> ir.Table:
    """Vehicles of a counted type registered to the person and not deregistered at M's end."""
    v = x.feed("vehicle")
    v = v.filter(_active(v, "registered_on", "deregistered_on", x)
                 & v.vehicle_type.isin(list(rule.value("vehicle_types_counted", x.end))))
    agg = _per_person(v, "vehicle", v.registered_on.fill_null(x.end), vehicles=v.count())
    return _shape(agg, agg.vehicles)


@indicator("homes_held", params=("homes_allowed", "uses_counted"), display="count")
def homes_held(x: Inputs, rule: Rule) -> ir.Table:
    """A household's members hold more counted homes at M's end than allowed; the warning names the
    member with the most recent registration."""
    p = x.feed("property")
    p = p.filter(_active(p, "registered_on", "deregistered_on", x)
                 & p.use.isin(list(rule.value("uses_counted", x.end))) & p.id_number.notnull())
    who = x.people.select("id_number", "household_id")
    p = p.join(who, "id_number")
    day = p.registered_on.fill_null(x.end)
    # the latest registration names the member; the id number breaks ties, so every run and both
    # engines name the same person. Co-owners each have a row of the same unit: count units.
    latest = day.strftime("%Y%m%d") + p.id_number
    agg = p.group_by("household_id").aggregate(
        homes=p.property_no.nunique(), id_number=p.id_number.argmax(latest), region=p.region.max(),
        evidence=_evidence(p, "property", day).collect())
    agg = agg.filter(agg.homes > int(rule.value("homes_allowed", x.end)))
    return _shape(agg, agg.homes)


@indicator("active_business_capital", params=("capital_limit", "roles_counted"), display="fen")
def active_business_capital(x: Inputs, rule: Rule) -> ir.Table:
    """Registered capital (fen) of active businesses the person holds in a counted role, established
    by M's end, when above the limit."""
    b = x.feed("business")
    b = b.filter((b.status == "active") & b.role.isin(list(rule.value("roles_counted", x.end)))
                 & (b.established_on.isnull() | (b.established_on <= x.end)))
    agg = _per_person(b, "business", b.established_on.fill_null(x.end),
                      capital=b.registered_capital_fen.fill_null(0).sum())
    agg = agg.filter(agg.capital > int(rule.value("capital_limit", x.end)))
    return _shape(agg, fen=agg.capital)


@indicator("enrolments_per_person", display="count")
def enrolments_per_person(x: Inputs, rule: Rule) -> ir.Table:
    """A person's current enrolment overlaps an enrolment in another household (the register's tier
    history: a second region enrolled them from a date before the first enrolment ended)."""
    t = x.tier_moves
    ev = ibis.struct({"feed": ibis.literal("registry"),
                      "record_id": ibis.literal("household ") + t.other_household_id.cast("string"),
                      "month": _month_of(t.since)})
    agg = t.group_by("id_number").aggregate(evidence=ev.collect(),
                                            enrolments=t.other_household_id.nunique() + 1)
    agg = agg.mutate(region=ibis.null("string"))
    return _shape(agg, agg.enrolments)


@indicator("cadre_relation_listed")
def cadre_relation_listed(x: Inputs, rule: Rule) -> ir.Table:
    """The organisation department lists the person as a cadre's or staff member's relative."""
    c = x.feed("cadre_relatives")
    return _shape(_per_person(c, "cadre_relatives", x.month))


@indicator("assessed_tier_change", params=("changes_counted",))
def assessed_tier_change(x: Inputs, rule: Rule) -> ir.Table:
    """This month's batch assessment gives an enrolled household a change of a counted kind."""
    a = x.assessment
    a = a.filter((a.month == x.month) & a.registered_tier.isin(list(ENROLLED_TIERS))
                 & a.change.isin(list(rule.value("changes_counted", x.end))))
    out = a.join(_household_heads(x), "household_id")
    out = _with_assessment_evidence(out, x)
    return _shape(out)
