"""Assessment use cases: one household from the JSON contract (`assess`), and many
households as column arrays in one vectorised simulation (`assess_many`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from openfisca_core.errors import ParameterNotFoundError
from openfisca_core.indexed_enums import Enum, EnumArray
from openfisca_core.simulations import Simulation, SimulationBuilder

from safetynet.errors import SafetynetError
from safetynet.rules import model
from safetynet.rules.common import round_money
from safetynet.rules.explain import Facts, explain, money
from safetynet.rules.system import get_system

StandardsLookup = Callable[[str, str, dt.date], Mapping[str, Any] | None]

INCOME_VARIABLES = tuple(f"income_{item}" for item in model.INCOME_ITEMS)
EXPENDITURE_VARIABLES = tuple(f"expenditure_{item}_12m" for item in model.EXPENDITURE_ITEMS)
LOCAL_VARIABLES = tuple(model.LOCAL_POLICY_FIELDS.values())

#: Inputs `assess_many` accepts, by entity. Persons also need `household` (the position of
#: their household in the household columns).
PERSON_INPUTS = frozenset({
    "birth_date", "age", "disability_category", "disability_grade", "self_care_items_failed", "student",
    "in_prison", "critical_illness", "supporter", "orphan_status", *INCOME_VARIABLES,
})
HOUSEHOLD_INPUTS = frozenset({
    "registration", "assessment_date", "deposits", "homes", "business_capital", "car_count",
    "motorcycle_count", "disability_vehicle_count", "other_vehicle_count", "family_income_12m",
    "temporary_emergency", "temporary_expenditure_surge", "temporary_assistance_requested",
    "dibao_banded_payment",
    *EXPENDITURE_VARIABLES, *LOCAL_VARIABLES,
})

#: What `assess_many` returns, by entity.
HOUSEHOLD_OUTPUTS = ("household_tier", "per_capita_income", "dibao_benefit",
                     "household_extremely_poor_benefit", "total_benefit", "unit_size")
PERSON_OUTPUTS = ("person_tier", "extremely_poor", "single_person_dibao", "care_level",
                  "extremely_poor_benefit", "single_person_dibao_benefit")
MONEY_OUTPUTS = {"per_capita_income", "dibao_benefit", "household_extremely_poor_benefit", "total_benefit",
                 "extremely_poor_benefit", "single_person_dibao_benefit"}

# Parameters each local value's default needs ({reg}: urban or rural).
DEFAULT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "dibao_standard": ("standards.dibao_standard.{reg}",),
    "extremely_poor_basic_standard": ("standards.extremely_poor_basic_standard.{reg}",
                                      "standards.dibao_standard.{reg}",
                                      "extremely_poor.basic_standard_min_ratio"),
    "care_standard_self_care": ("standards.care_standard.self_care",),
    "care_standard_partial": ("standards.care_standard.partial",),
    "care_standard_full": ("standards.care_standard.full",),
    "edge_multiplier": ("edge.multiplier",),
    "rigid_expenditure_ratio": ("rigid.ratio",),
    "disposable_income_prev_year_monthly": ("standards.disposable_income_prev_year_annual.{reg}",),
    "deposits_months_of_standard": ("assets.deposits_months_of_standard",),
    "max_homes": ("assets.max_homes",),
    "cars_allowed": ("assets.cars_allowed",),
    "business_capital_limit": ("assets.business_capital_limit",),
    "edge_expenditure_type": ("edge.expenditure_type",),
}

HOUSEHOLD_FACTS = (
    "unit_size", "family_counted_income", "per_capita_income", "deposits", "deposits_limit", "homes",
    "car_count", "motorcycle_count", "disability_vehicle_count", "countable_vehicle_count",
    "business_capital", "assets_deposits_pass", "assets_homes_pass", "assets_vehicles_pass",
    "assets_business_pass", "assets_pass", "dibao_income_below_standard", "dibao_eligible",
    "dibao_covered_members", "dibao_household_benefit", "edge_income_below_multiple",
    "edge_deductible_expenditure_12m", "edge_adjusted_per_capita_income", "edge_expenditure_test",
    "dibao_edge", "rigid_expenditure_12m", "family_income_12m", "rigid_expenditure_share",
    "rigid_expenditure_above_ratio", "rigid_income_below_disposable", "rigid_expenditure_hardship",
    "household_tier", "dibao_benefit", "household_extremely_poor_benefit", "total_benefit",
    "dibao_banded_payment", *LOCAL_VARIABLES,
)
PERSON_FACTS = (
    "in_unit", "age", "disability_category", "disability_grade", "disability_work_grade_limit", "student",
    "critical_illness", "no_work_capacity", "continued_minor_support", "no_means_of_living", "supporter",
    "no_capable_supporter", "extremely_poor", "self_care_items_failed", "care_level",
    "extremely_poor_basic_benefit", "extremely_poor_care_benefit", "extremely_poor_benefit", "counted_income",
    "uncounted_income",
    "single_person_dibao_category", "single_person_dibao", "single_person_dibao_benefit", "person_tier",
)


# ---------------------------------------------------------------------------------------
# one household
# ---------------------------------------------------------------------------------------

def assess(payload: Any, *, standards_lookup: StandardsLookup | None = None) -> dict:
    """Assess one household given as the JSON contract of docs/contracts/assess.md.

    Local standards missing from `local_policy` come from `standards_lookup(region,
    registration, as_of)` (a mapping shaped like local_policy, or None) when given and the
    input names a region, else from the dated parameter defaults. Raises AssessInputError
    (a SafetynetError naming the field) when the input is invalid."""
    data = model.parse_assess_input(payload)
    looked_up = model.LocalPolicy()
    if standards_lookup is not None and data.region and data.local_policy.missing():
        found = standards_lookup(data.region, data.registration, data.as_of)
        if found:
            try:
                looked_up = model.parse_local_policy(found, path="standards")
            except model.AssessInputError as e:
                raise SafetynetError(f"the standards store gave invalid values for region {data.region} "
                                     f"({data.registration}, {data.as_of}): {e}") from e
    policy = model.merge_policy(data.local_policy, looked_up)
    _check_defaults(policy, data.registration, data.as_of)

    households, persons = _columns(data, policy)
    simulation = build_simulation(as_of=data.as_of, households=households, persons=persons)
    period = _period(data.as_of)
    h = {name: _scalar(_column(simulation, name, period)[0]) for name in HOUSEHOLD_FACTS}
    in_unit = simulation.calculate("in_unit", period)
    h["uncounted_income"] = float((simulation.calculate("uncounted_income", period) * in_unit).sum())
    person_columns = {name: _column(simulation, name, period) for name in PERSON_FACTS}
    people = [{"id": m.id, **{name: _scalar(col[i]) for name, col in person_columns.items()}}
              for i, m in enumerate(data.members)]

    params = get_system().get_parameters_at_instant(data.as_of.isoformat())
    local_values = _local_values(h)
    facts = Facts(household=h, persons=people, params=params,
                  sources=model.policy_sources(data.local_policy, looked_up), local_values=local_values)
    return {
        "household_tier": h["household_tier"],
        "per_capita_income_monthly": money(h["per_capita_income"]),
        "persons": [{"id": x["id"], "tier": x["person_tier"],
                     "care_level": x["care_level"] if x["extremely_poor"] else None,
                     "single_person_dibao": bool(x["single_person_dibao"])} for x in people],
        "benefits_monthly": {"dibao": money(h["dibao_benefit"]),
                             "extremely_poor": money(h["household_extremely_poor_benefit"]),
                             "total": money(h["total_benefit"])},
        "explanation": explain(facts),
    }


def _columns(data: model.AssessInput, policy: model.LocalPolicy) -> tuple[dict, dict]:
    members = data.members
    persons: dict[str, Any] = {
        "household": np.zeros(len(members), dtype=np.int64),
        "birth_date": np.array([m.birth_date for m in members], dtype="datetime64[D]"),
        "disability_category": np.array([m.disability.category if m.disability else "none" for m in members]),
        "disability_grade": np.array([m.disability.grade if m.disability else 0 for m in members]),
        "self_care_items_failed": np.array([m.self_care_items_failed for m in members]),
        "student": np.array([m.student for m in members]),
        "in_prison": np.array([m.in_prison for m in members]),
        "critical_illness": np.array([m.critical_illness for m in members]),
        "supporter": np.array([m.supporter for m in members]),
    }
    for item in model.INCOME_ITEMS:
        persons[f"income_{item}"] = np.array([getattr(m.income_monthly, item) for m in members],
                                             dtype=np.float64)
    a, e = data.assets, data.expenditure_12m
    cars = [c.type for c in a.cars]
    households: dict[str, Any] = {
        "registration": np.array([data.registration]),
        "assessment_date": np.array([data.as_of], dtype="datetime64[D]"),
        "deposits": np.array([a.deposits]),
        "homes": np.array([a.homes]),
        "business_capital": np.array([a.business_capital]),
        "car_count": np.array([cars.count("car")]),
        "motorcycle_count": np.array([cars.count("motorcycle")]),
        "disability_vehicle_count": np.array([cars.count("disability_vehicle")]),
        "other_vehicle_count": np.array([len(cars) - cars.count("car") - cars.count("motorcycle")
                                         - cars.count("disability_vehicle")]),
    }
    for item in model.EXPENDITURE_ITEMS:
        households[f"expenditure_{item}_12m"] = np.array([getattr(e, item)], dtype=np.float64)
    for name, value in policy.given().items():
        households[name] = np.array([value])
    return households, persons


def _check_defaults(policy: model.LocalPolicy, registration: str, as_of: dt.date) -> None:
    """Name the local_policy field to give when its dated default does not cover `as_of`."""
    parameters = get_system().parameters
    problems = []
    paths = {var: path for path, var in model.LOCAL_POLICY_FIELDS.items()}
    for var in policy.missing():
        for dotted in DEFAULT_PARAMETERS[var]:
            node = parameters
            for part in dotted.format(reg=registration).split("."):
                node = node.children[part]
            if node(as_of.isoformat()) is None:
                problems.append((f"local_policy.{paths[var]}",
                                 f"required for an assessment as of {as_of.isoformat()}: no dated default "
                                 f"({dotted.format(reg=registration)}) covers that date and the standards "
                                 "store gave none"))
                break
    if problems:
        raise model.AssessInputError(problems)


def _local_values(h: dict) -> dict[str, Any]:
    """The local standards used, by local_policy path; amounts rounded to fen, ratios as they are."""
    ratios = {"edge_multiplier", "rigid_expenditure_ratio", "deposits_months_of_standard"}
    return {path: money(h[var]) if isinstance(h[var], float) and var not in ratios else h[var]
            for path, var in model.LOCAL_POLICY_FIELDS.items()}


def _column(simulation: Simulation, name: str, period: str) -> np.ndarray:
    values = simulation.calculate(name, period)
    return values.decode_to_str() if isinstance(values, EnumArray) else values


def _scalar(value: Any) -> Any:
    """A numpy scalar as the plain Python value (JSON-ready)."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------------
# many households, one simulation
# ---------------------------------------------------------------------------------------

def _period(as_of: dt.date) -> str:
    return f"{as_of.year:04d}-{as_of.month:02d}"


def build_simulation(*, as_of: dt.date, households: Mapping[str, Any],
                     persons: Mapping[str, Any]) -> Simulation:
    """One simulation for every household: columns are rule-variable names (see
    HOUSEHOLD_INPUTS, PERSON_INPUTS); `persons["household"]` gives each person's household
    position (0 … n−1). Enum columns take the member names (e.g. "urban") or their indices."""
    problems: list[tuple[str, str]] = []
    if "registration" not in households:
        problems.append(("households.registration", "required: urban or rural for each household"))
    if "household" not in persons:
        problems.append(("persons.household", "required: the position of each person's household"))
    for name in households:
        if name not in HOUSEHOLD_INPUTS:
            problems.append((f"households.{name}",
                             f"unknown input; allowed: {', '.join(sorted(HOUSEHOLD_INPUTS))}"))
    for name in persons:
        if name != "household" and name not in PERSON_INPUTS:
            problems.append((f"persons.{name}",
                             f"unknown input; allowed: {', '.join(sorted(PERSON_INPUTS))}"))
    if problems:
        raise model.AssessInputError(problems)
    n_households = len(households["registration"])
    membership = np.asarray(persons["household"], dtype=np.int64)
    n_persons = len(membership)
    for entity, columns, count in (("households", households, n_households), ("persons", persons, n_persons)):
        for name, column in columns.items():
            if len(column) != count:
                problems.append((f"{entity}.{name}", f"has {len(column)} values; expected {count}"))
    if n_persons and (membership.min() < 0 or membership.max() >= n_households):
        problems.append(("persons.household", f"must be household positions from 0 to {n_households - 1}"))
    elif np.bincount(membership, minlength=n_households).min(initial=1) == 0:
        problems.append(("persons.household", "every household needs at least one person"))
    if problems:
        raise model.AssessInputError(problems)

    system = get_system()
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(n_persons))
    household_population = builder.declare_entity("household", np.arange(n_households))
    builder.join_with_persons(household_population, membership, np.zeros(n_persons, dtype=np.int64))
    simulation = builder.build(system)
    period = _period(as_of)
    if "assessment_date" not in households:
        simulation.set_input("assessment_date", period, np.full(n_households, np.datetime64(as_of, "D")))
    for entity, columns in (("households", households), ("persons", persons)):
        for name, column in columns.items():
            if name == "household":
                continue
            variable = system.get_variable(name)
            values = np.asarray(column)
            if variable.value_type is Enum:
                try:
                    values = variable.possible_values.encode(values)
                except Exception as e:  # openfisca raises several encoding errors
                    options = ", ".join(variable.possible_values.__members__)
                    raise model.AssessInputError([(f"{entity}.{name}", f"must hold one of {options}")]) from e
            simulation.set_input(name, period, values)
    return simulation


def assess_many(*, as_of: dt.date, households: Mapping[str, Any],
                persons: Mapping[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Assess many households in ONE vectorised simulation.

    `households` and `persons` map rule-variable names to equal-length columns (see
    HOUSEHOLD_INPUTS and PERSON_INPUTS); `persons["household"]` is each person's household
    position. A local-standard column given applies to its households; a column left out
    takes the dated default for each household's registration. Returns
    {"households": {...}, "persons": {...}} holding HOUSEHOLD_OUTPUTS and PERSON_OUTPUTS:
    tiers and care levels as string arrays, amounts rounded to fen (float64)."""
    simulation = build_simulation(as_of=as_of, households=households, persons=persons)
    period = _period(as_of)
    try:
        out: dict[str, dict[str, np.ndarray]] = {"households": {}, "persons": {}}
        for entity, names in (("households", HOUSEHOLD_OUTPUTS), ("persons", PERSON_OUTPUTS)):
            for name in names:
                values = _column(simulation, name, period)
                if name in MONEY_OUTPUTS:
                    values = round_money(values)
                out[entity][name] = values
    except ParameterNotFoundError as e:
        raise model.AssessInputError([("households", f"a local standard has no dated default on {as_of}: "
                                                     f"give its column ({e})")]) from e
    return out
