"""The assessment contract (docs/contracts/assess.md) through the service: outcomes, local
standards, invalid input, and the vectorised batch against the one-household path."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from safetynet.rules import service
from safetynet.rules.model import AssessInputError
from tests.rules.assess_cases import SPEC_EXPLANATION_ENTRY, SPEC_OUTPUT, family, spec_example


def _rules(result: dict) -> dict[tuple[str, str | None], dict]:
    return {(e["rule"], e["person"]): e for e in result["explanation"]}


def test_spec_example_gives_the_spec_output():
    result = service.assess(spec_example())
    assert {k: result[k] for k in SPEC_OUTPUT} == SPEC_OUTPUT
    entry = _rules(result)[("extremely_poor.no_work_capacity", "p1")]
    assert {k: entry[k] for k in SPEC_EXPLANATION_ENTRY} == SPEC_EXPLANATION_ENTRY
    json.dumps(result, allow_nan=False)  # plain JSON, no NaN or numpy values


def test_explanation_lists_every_rule_tested_with_sources():
    result = service.assess(spec_example())
    rules = [e["rule"] for e in result["explanation"]]
    for rule in ("income.per_capita", "assets.deposits", "assets.homes", "assets.cars",
                 "assets.business_capital", "dibao.income_below_standard", "extremely_poor.no_work_capacity",
                 "extremely_poor.no_means_of_living", "extremely_poor.no_supporter",
                 "extremely_poor.care_level"):
        assert rule in rules
    for entry in result["explanation"]:
        assert set(entry) == {"rule", "person", "passed", "values", "reference", "text_zh", "text_en"}
        assert entry["reference"] and entry["text_zh"] and entry["text_en"]


def test_dibao_family_amounts_and_tiers():
    result = service.assess(family())
    assert result["household_tier"] == "dibao"
    assert result["per_capita_income_monthly"] == 300.0
    assert result["benefits_monthly"] == {"dibao": 1923.0, "extremely_poor": 0.0, "total": 1923.0}
    assert [p["tier"] for p in result["persons"]] == ["dibao"] * 3
    assert all(p["care_level"] is None for p in result["persons"])
    assert "edge.income_below_multiple" not in {e["rule"] for e in result["explanation"]}


def test_edge_family_with_single_person_dibao_and_rigid_rules_skipped():
    payload = family(members=[
        {"id": "a", "birth_date": "1980-05-01", "income_monthly": {"wage": 2400}},
        {"id": "b", "birth_date": "2005-01-20", "disability": {"category": "mental", "grade": 3}},
    ])
    result = service.assess(payload)
    assert result["household_tier"] == "dibao_edge"
    assert result["persons"][1] == {"id": "b", "tier": "dibao", "care_level": None,
                                    "single_person_dibao": True}
    assert result["benefits_monthly"] == {"dibao": 941.0, "extremely_poor": 0.0, "total": 941.0}
    entry = _rules(result)[("dibao.single_person", "b")]
    assert entry["passed"] and entry["values"]["amount"] == 941.0
    assert not any(e["rule"].startswith("rigid.") for e in result["explanation"])


def test_rounding_to_two_decimals():
    payload = family(members=[
        {"id": "g", "birth_date": "1940-01-01", "supporter": "unable"},
        {"id": "a", "birth_date": "1980-05-01", "income_monthly": {"wage": 1000}},
        {"id": "c", "birth_date": "2015-09-09"},
    ])
    result = service.assess(payload)
    assert result["per_capita_income_monthly"] == 333.33
    assert result["benefits_monthly"] == {"dibao": 1215.33, "extremely_poor": 1355.0, "total": 2570.33}
    assert [p["tier"] for p in result["persons"]] == ["extremely_poor", "dibao", "dibao"]


def test_prisoner_is_left_out_of_the_unit():
    payload = family(members=[
        {"id": "a", "birth_date": "1980-05-01"},
        {"id": "b", "birth_date": "1982-01-20", "in_prison": True, "income_monthly": {"wage": 5000}},
    ])
    result = service.assess(payload)
    assert result["household_tier"] == "dibao"
    assert [p["tier"] for p in result["persons"]] == ["dibao", "none"]
    assert result["benefits_monthly"]["dibao"] == 941.0
    assert _rules(result)[("unit.members", None)]["values"]["excluded"] == ["b"]


def test_cars_are_counted_by_type():
    car = service.assess(family(assets={"cars": [{"type": "car", "price": 30000}]}))
    assert car["household_tier"] == "none"
    assert not _rules(car)[("assets.cars", None)]["passed"]
    exempt = service.assess(family(assets={"cars": [{"type": "motorcycle"}, {"type": "disability_vehicle"}]}))
    assert exempt["household_tier"] == "dibao"


def test_missing_local_policy_uses_dated_defaults_then_the_store():
    payload = family()
    del payload["local_policy"]
    result = service.assess(payload)  # Shandong end-2024 urban average 1010
    assert result["benefits_monthly"]["dibao"] == (1010 - 300) * 3
    sources = _rules(result)[("policy.local_standards", None)]["values"]["sources"]
    assert sources["dibao_standard"] == "default"

    calls = []

    def lookup(region, registration, as_of):
        calls.append((region, registration, as_of))
        return {"dibao_standard": 824, "care_standard": {"full": 700}}

    payload["region"] = "370402"
    payload["local_policy"] = {"care_standard": {"self_care": 90}}
    result = service.assess(payload, standards_lookup=lookup)
    assert calls == [("370402", "urban", dt.date(2025, 7, 1))]
    assert result["benefits_monthly"]["dibao"] == (824 - 300) * 3
    standards = _rules(result)[("policy.local_standards", None)]["values"]
    assert standards["sources"]["dibao_standard"] == "store"
    assert standards["sources"]["care_standard.self_care"] == "input"
    assert standards["care_standard.full"] == 700.0
    assert standards["extremely_poor_basic_standard"] == round(1.3 * 824, 2)  # the 1.3 × floor


def test_lookup_returning_none_falls_back_to_defaults():
    payload = family(region="370402")
    del payload["local_policy"]
    result = service.assess(payload, standards_lookup=lambda *_: None)
    assert result["benefits_monthly"]["dibao"] == (1010 - 300) * 3


def test_no_default_before_its_date_names_the_field_to_give():
    payload = family(as_of="2024-06-01")
    del payload["local_policy"]["dibao_standard"]
    with pytest.raises(AssessInputError) as e:
        service.assess(payload)
    assert e.value.field == "local_policy.dibao_standard"
    payload["local_policy"].update(dibao_standard=900, rigid_expenditure_ratio=0.75)
    assert service.assess(payload)["household_tier"] == "dibao"


def _problem(payload) -> AssessInputError:
    with pytest.raises(AssessInputError) as e:
        service.assess(payload)
    return e.value


@pytest.mark.parametrize(("mutate", "field", "says"), [
    (lambda p: p.update(colour="red"), "colour", "unknown field"),
    (lambda p: p["members"][0].update(nickname="x"), "members[0].nickname", "unknown field"),
    (lambda p: p["members"][0]["income_monthly"].update(bonus=1), "members[0].income_monthly.bonus",
     "unknown"),
    (lambda p: p["local_policy"]["asset_limits"].update(boats=0), "local_policy.asset_limits.boats",
     "unknown"),
    (lambda p: p["members"][0]["income_monthly"].update(wage=-5), "members[0].income_monthly.wage", "≥ 0"),
    (lambda p: p["members"][0]["income_monthly"].update(wage="900"), "members[0].income_monthly.wage",
     "number"),
    (lambda p: p["members"][0]["income_monthly"].update(wage=True), "members[0].income_monthly.wage",
     "number"),
    (lambda p: p.update(as_of="2025-13-01"), "as_of", "YYYY-MM-DD"),
    (lambda p: p.update(as_of="1 July 2025"), "as_of", "YYYY-MM-DD"),
    (lambda p: p.update(as_of="2020-01-01"), "as_of", "2021-07-01"),
    (lambda p: p["members"][0].update(birth_date="2030-01-01"), "members[0].birth_date", "after as_of"),
    (lambda p: p.update(registration="city"), "registration", "urban, rural"),
    (lambda p: p["members"][0].update(supporter="maybe"), "members[0].supporter", "none, unable, able"),
    (lambda p: p["members"][0]["disability"].update(category="blind"), "members[0].disability.category",
     "intellectual"),
    (lambda p: p["members"][0]["disability"].update(grade=5), "members[0].disability.grade", "from 1 to 4"),
    (lambda p: p["members"][0].update(self_care_items_failed=7), "members[0].self_care_items_failed",
     "0 to 6"),
    (lambda p: p["members"][0].update(student="no"), "members[0].student", "true or false"),
    (lambda p: p["members"][0].update(relation="cousin"), "members[0].relation", "head"),
    (lambda p: p["assets"].update(cars=[{"type": "rocket"}]), "assets.cars[0].type", "car, motorcycle"),
    (lambda p: p["assets"].update(homes=1.5), "assets.homes", "whole number"),
    (lambda p: p["local_policy"].update(dibao_standard=0), "local_policy.dibao_standard", "> 0"),
    (lambda p: p["local_policy"]["care_standard"].update(full=-1), "local_policy.care_standard.full", "≥ 0"),
    (lambda p: p["local_policy"].update(edge_multiplier=0.5), "local_policy.edge_multiplier", "≥ 1"),
    (lambda p: p.update(members=[]), "members", "non-empty"),
    (lambda p: p["members"].append(dict(p["members"][0])), "members[1].id", "duplicate"),
    (lambda p: p["members"][0].pop("birth_date"), "members[0].birth_date", "required"),
    (lambda p: p.pop("registration"), "registration", "required"),
    (lambda p: p.update(region="Shizhong"), "region", "digits"),
    (lambda p: p["expenditure_12m"].update(medical=None), "expenditure_12m.medical", "number"),
])
def test_invalid_input_names_the_field(mutate, field, says):
    payload = spec_example()
    mutate(payload)
    error = _problem(payload)
    assert error.field == field
    assert says in str(error)
    assert field in str(error)


def test_every_problem_is_reported_and_non_objects_are_refused():
    payload = spec_example()
    payload["members"][0]["income_monthly"]["wage"] = -1
    payload["assets"]["deposits"] = "lots"
    error = _problem(payload)
    assert [f for f, _ in error.problems] == ["members[0].income_monthly.wage", "assets.deposits"]
    assert _problem([1, 2]).field == ""
    assert _problem({"members": "x"}).field == "as_of"


def test_expenditure_type_edge_from_local_policy_or_top_level():
    payload = family(members=[{"id": "a", "birth_date": "1980-05-01", "income_monthly": {"wage": 1500}}],
                     expenditure_12m={"medical": 12000})
    payload["local_policy"]["disposable_income_prev_year_monthly"] = 3600
    assert service.assess(payload)["household_tier"] == "none"
    payload["local_policy"]["edge_expenditure_type"] = True
    assert service.assess(payload)["household_tier"] == "dibao_edge"
    del payload["local_policy"]["edge_expenditure_type"]
    payload["edge_expenditure_type"] = True
    result = service.assess(payload)
    assert result["household_tier"] == "dibao_edge"
    assert _rules(result)[("edge.expenditure_type", None)]["passed"]


def test_rigid_expenditure_family():
    payload = family(members=[{"id": "a", "birth_date": "1980-05-01", "income_monthly": {"wage": 2000}}],
                     expenditure_12m={"medical": 20000})
    payload["local_policy"]["disposable_income_prev_year_monthly"] = 3600
    result = service.assess(payload)
    assert result["household_tier"] == "rigid_expenditure"
    entry = _rules(result)[("rigid.expenditure_ratio", None)]
    assert entry["passed"] and entry["values"]["validity_months"] == 12
    assert entry["values"]["share"] == pytest.approx(20000 / 24000, abs=1e-4)


# --- many households in one simulation --------------------------------------------------

def _random_payloads(n: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    payloads = []
    for h in range(n):
        members = []
        for i in range(int(rng.integers(1, 5))):
            born = f"{int(rng.integers(1930, 2024))}-0{int(rng.integers(1, 9))}-15"
            m = {"id": f"h{h}p{i}", "birth_date": born,
                 "supporter": str(rng.choice(["none", "unable", "able"])),
                 "self_care_items_failed": int(rng.integers(0, 7)),
                 "income_monthly": {"wage": float(rng.choice([0, 300, 900, 1500, 2500])),
                                    "basic_pension": float(rng.choice([0, 150]))},
                 "in_prison": bool(rng.random() < 0.05), "critical_illness": bool(rng.random() < 0.1)}
            if rng.random() < 0.3:
                category = str(rng.choice(["physical", "intellectual", "visual", "mental"]))
                m["disability"] = {"category": category, "grade": int(rng.integers(1, 5))}
            members.append(m)
        payloads.append({
            "as_of": "2025-07-01", "registration": str(rng.choice(["urban", "rural"])), "members": members,
            "local_policy": {"dibao_standard": float(rng.choice([941, 824])),
                             "disposable_income_prev_year_monthly": 3600},
            "assets": {"deposits": float(rng.choice([0, 20000, 80000])), "homes": int(rng.integers(0, 3))},
            "expenditure_12m": {"medical": float(rng.choice([0, 15000, 40000]))},
        })
    return payloads


def _columns(payloads: list[dict]) -> tuple[dict, dict]:
    people = [(h, m) for h, p in enumerate(payloads) for m in p["members"]]
    persons = {
        "household": np.array([h for h, _ in people]),
        "birth_date": np.array([m["birth_date"] for _, m in people], dtype="datetime64[D]"),
        "supporter": np.array([m["supporter"] for _, m in people]),
        "self_care_items_failed": np.array([m["self_care_items_failed"] for _, m in people]),
        "income_wage": np.array([m["income_monthly"]["wage"] for _, m in people]),
        "income_basic_pension": np.array([m["income_monthly"]["basic_pension"] for _, m in people]),
        "in_prison": np.array([m["in_prison"] for _, m in people]),
        "critical_illness": np.array([m["critical_illness"] for _, m in people]),
        "disability_category": np.array([m.get("disability", {}).get("category", "none") for _, m in people]),
        "disability_grade": np.array([m.get("disability", {}).get("grade", 0) for _, m in people]),
    }
    households = {
        "registration": np.array([p["registration"] for p in payloads]),
        "dibao_standard": np.array([p["local_policy"]["dibao_standard"] for p in payloads]),
        "disposable_income_prev_year_monthly": np.full(len(payloads), 3600.0),
        "deposits": np.array([p["assets"]["deposits"] for p in payloads]),
        "homes": np.array([p["assets"]["homes"] for p in payloads]),
        "expenditure_medical_12m": np.array([p["expenditure_12m"]["medical"] for p in payloads]),
    }
    return households, persons


def test_assess_many_agrees_with_assess_household_by_household():
    payloads = _random_payloads(150)
    households, persons = _columns(payloads)
    many = service.assess_many(as_of=dt.date(2025, 7, 1), households=households, persons=persons)
    assert len(set(many["households"]["household_tier"])) >= 4  # the sample covers most tiers
    k = 0
    for h, payload in enumerate(payloads):
        one = service.assess(payload)
        assert many["households"]["household_tier"][h] == one["household_tier"]
        assert many["households"]["per_capita_income"][h] == one["per_capita_income_monthly"]
        assert many["households"]["dibao_benefit"][h] == one["benefits_monthly"]["dibao"]
        assert many["households"]["total_benefit"][h] == one["benefits_monthly"]["total"]
        for person in one["persons"]:
            assert many["persons"]["person_tier"][k] == person["tier"]
            assert bool(many["persons"]["single_person_dibao"][k]) == person["single_person_dibao"]
            k += 1


def test_assess_many_refuses_bad_columns():
    households = {"registration": np.array(["urban"]), "colour": np.array([1])}
    persons = {"household": np.array([0])}
    with pytest.raises(AssessInputError) as e:
        service.assess_many(as_of=dt.date(2025, 7, 1), households=households, persons=persons)
    assert e.value.field == "households.colour"
    with pytest.raises(AssessInputError) as e:
        service.assess_many(as_of=dt.date(2025, 7, 1),
                            households={"registration": np.array(["urban", "rural"])},
                            persons={"household": np.array([0, 0])})
    assert "at least one person" in str(e.value)
    with pytest.raises(AssessInputError) as e:
        service.assess_many(as_of=dt.date(2025, 7, 1), households={"registration": np.array(["town"])},
                            persons={"household": np.array([0])})
    assert e.value.field == "households.registration"


def test_assess_many_takes_100k_households_in_one_simulation():
    # speed is measured by benchmarks/bench_assess_many.py, not asserted here
    n = 100_000
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 5, n)
    persons = {"household": np.repeat(np.arange(n), sizes),
               "age": rng.integers(0, 95, int(sizes.sum())),
               "income_wage": rng.choice([0.0, 500.0, 1500.0, 3000.0], int(sizes.sum()))}
    households = {"registration": rng.choice(["urban", "rural"], n)}
    out = service.assess_many(as_of=dt.date(2025, 7, 1), households=households, persons=persons)
    tiers = out["households"]["household_tier"]
    assert len(tiers) == n and len(out["persons"]["person_tier"]) == int(sizes.sum())
    # a household with no counted income at all is at least dibao-eligible
    no_income = np.bincount(persons["household"], weights=persons["income_wage"], minlength=n) == 0
    assert set(np.asarray(tiers)[no_income]) <= {"dibao", "extremely_poor"}
    assert {"dibao", "none"} <= set(tiers)


def test_ratios_are_not_rounded_and_uncounted_income_is_the_units():
    payload = family(members=[
        {"id": "a", "birth_date": "1980-05-01", "income_monthly": {"wage": 900, "basic_pension": 100}},
        {"id": "b", "birth_date": "1982-01-20", "in_prison": True, "income_monthly": {"assistance": 500}},
    ])
    payload["local_policy"]["rigid_expenditure_ratio"] = 0.625
    result = service.assess(payload)
    standards = _rules(result)[("policy.local_standards", None)]["values"]
    assert standards["rigid_expenditure_ratio"] == 0.625
    assert _rules(result)[("income.per_capita", None)]["values"]["uncounted_income"] == 100.0
