"""The counterfactual for one household (rules/counterfactual.py): the smallest change of
income or of the dibao standard that moves the tier, through the function, the CLI and the API.

Expected amounts follow from the rules (standard 941, edge multiplier 1.5, strict "<" tests):
dibao while per-capita income < 941, edge while < 1.5 × 941 = 1411.50."""

from __future__ import annotations

import json

import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safetynet.api.app import add_error_handlers
from safetynet.rules import service
from safetynet.rules.api import router
from safetynet.rules.cli import counterfactual_cli
from safetynet.rules.counterfactual import counterfactual
from tests.rules.assess_cases import family, spec_example

STANDARD = 941.0
EDGE_LIMIT = 1.5 * STANDARD  # 1411.50


def _single(**income) -> dict:
    """One working-age adult in Zaozhuang (standard 941) with the given monthly income."""
    return family(members=[{"id": "a", "birth_date": "1980-05-01", "relation": "head",
                            "income_monthly": income}])


def _by_direction(result: dict) -> dict[str, dict]:
    return {b["direction"]: b for b in result["boundaries"]}


def _rules(boundary: dict) -> dict[str, bool]:
    return {e["rule"]: e["passed"] for e in boundary["explanation"]}


def test_dibao_household_raised_to_the_standard_becomes_edge():
    result = counterfactual(_single(wage=900))
    assert result["baseline"] == service.assess(_single(wage=900))
    assert result["baseline"]["household_tier"] == "dibao"
    up = _by_direction(result)["income_up"]
    # 900 + x < 941 stops holding at x = 41.00 exactly (the test is strict)
    assert up["change"] == round(STANDARD - 900, 2) == 41.0
    assert (up["from_tier"], up["to_tier"], up["value"]) == ("dibao", "dibao_edge", 941.0)
    rules = _rules(up)
    assert rules["dibao.income_below_standard"] is False
    assert rules["edge.income_below_multiple"] is True
    assert service.assess(_single(wage=900 + 40.99))["household_tier"] == "dibao"  # one fen less
    entry = next(e for e in up["explanation"] if e["rule"] == "dibao.income_below_standard")
    assert entry["values"] == {"per_capita_income": 941.0, "dibao_standard": 941.0}
    assert {"reference", "text_zh", "text_en", "person"} <= set(entry)
    # unchanged rules are left out
    assert "assets.deposits" not in rules and "policy.local_standards" not in rules


def test_no_deeper_tier_for_a_working_adult_even_without_income():
    down = _by_direction(counterfactual(_single(wage=900)))["income_down"]
    assert down["change"] is None and down["to_tier"] is None and down["explanation"] == []
    assert "no deeper tier" in down["note"]
    zero = _by_direction(counterfactual(_single()))["income_down"]
    assert zero["change"] is None and zero["note"] == "counted income is already 0"


def test_edge_household_smallest_drop_into_dibao_and_rise_out_of_edge():
    result = counterfactual(_single(wage=1000))
    assert result["baseline"]["household_tier"] == "dibao_edge"
    b = _by_direction(result)
    # dibao needs income < 941: 940.99 at most, a drop of 59.01
    assert b["income_down"]["change"] == -round(1000 - (STANDARD - 0.01), 2) == -59.01
    assert (b["income_down"]["to_tier"], b["income_down"]["value"]) == ("dibao", 940.99)
    assert _rules(b["income_down"])["dibao.income_below_standard"] is True
    # edge needs income < 1411.50; no expenditure, so nothing below edge but none
    assert b["income_up"]["change"] == round(EDGE_LIMIT - 1000, 2) == 411.5
    assert b["income_up"]["to_tier"] == "none"
    assert _rules(b["income_up"])["edge.income_below_multiple"] is False


def test_income_drop_spreads_over_every_counted_item_of_the_unit():
    payload = family(members=[
        {"id": "a", "birth_date": "1980-05-01", "relation": "head", "income_monthly": {"wage": 1200}},
        {"id": "b", "birth_date": "1982-01-20", "relation": "spouse",
         "income_monthly": {"business": 800, "basic_pension": 500}},
    ])
    b = _by_direction(counterfactual(payload))
    # 2 members, 2000 counted: dibao below 2 × 941 = 1882, edge below 2 × 1411.50 = 2823
    assert b["income_down"]["change"] == -118.01 and b["income_down"]["to_tier"] == "dibao"
    assert b["income_down"]["value"] == 1881.99
    assert b["income_up"]["change"] == 823.0 and b["income_up"]["to_tier"] == "none"


def test_standard_change_both_ways():
    b = _by_direction(counterfactual(_single(wage=1000)))
    # dibao when 1000 < standard: 1000.01
    assert b["standard_up"]["change"] == 59.01
    assert (b["standard_up"]["to_tier"], b["standard_up"]["value"]) == ("dibao", 1000.01)
    # edge fails when 1000 ≥ 1.5 × standard, i.e. standard ≤ 666.66 (1.5 × 666.67 = 1000.005)
    assert b["standard_down"]["change"] == round(666.66 - STANDARD, 2) == -274.34
    assert (b["standard_down"]["to_tier"], b["standard_down"]["value"]) == ("none", 666.66)
    assert _rules(b["standard_down"])["edge.income_below_multiple"] is False

    dibao = _by_direction(counterfactual(_single(wage=900)))
    assert dibao["standard_down"]["change"] == -41.0 and dibao["standard_down"]["to_tier"] == "dibao_edge"
    assert dibao["standard_up"]["change"] is None and "100000" in dibao["standard_up"]["note"]


def test_household_with_no_boundary_in_range():
    payload = family(assets={"cars": [{"type": "car", "price": 30000}]})  # a car rules out every tier
    result = counterfactual(payload)
    assert result["baseline"]["household_tier"] == "none"
    for b in result["boundaries"]:
        assert b["change"] is None and b["to_tier"] is None and b["note"], b
    assert _by_direction(result)["income_up"]["note"] == "already the shallowest tier"

    spec = _by_direction(counterfactual(spec_example()))  # extremely poor, no income
    assert spec["income_down"]["note"] == "already the deepest tier"
    assert spec["standard_down"]["change"] is None


def test_standards_lookup_is_asked_once():
    calls = []

    def lookup(region, registration, as_of):
        calls.append(region)
        return {"dibao_standard": 824}

    payload = _single(wage=800)
    payload["region"] = "370402"
    del payload["local_policy"]["dibao_standard"]
    up = _by_direction(counterfactual(payload, standards_lookup=lookup))["income_up"]
    assert up["change"] == 24.0 and up["to_tier"] == "dibao_edge"
    assert calls == ["370402"]


def test_output_is_plain_json():
    json.dumps(counterfactual(_single(wage=1000)), allow_nan=False)


# ---- CLI and API -------------------------------------------------------------------------

app = typer.Typer()
app.command("counterfactual")(counterfactual_cli)


@app.callback()
def _root() -> None:
    """Keeps `counterfactual` a subcommand, as on the real command."""


runner = CliRunner()


def test_cli_valid_and_invalid(tmp_path):
    path = tmp_path / "household.json"
    path.write_text(json.dumps(_single(wage=900)), encoding="utf-8")
    result = runner.invoke(app, ["counterfactual", str(path)])
    assert result.exit_code == 0, result.stderr
    assert _by_direction(json.loads(result.stdout))["income_up"]["change"] == 41.0

    payload = _single(wage=-5)
    result = runner.invoke(app, ["counterfactual", "-"], input=json.dumps(payload))
    assert result.exit_code == 2 and result.stdout == ""
    assert "members[0].income_monthly.wage" in result.stderr and "≥ 0" in result.stderr
    result = runner.invoke(app, ["counterfactual", "-"], input="{not json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_api_valid_and_invalid():
    api = FastAPI()
    add_error_handlers(api)  # the platform's error bodies
    api.include_router(router, prefix="/api/v1")
    client = TestClient(api)
    response = client.post("/api/v1/counterfactual", json=_single(wage=1000))
    assert response.status_code == 200
    assert _by_direction(response.json())["income_down"]["change"] == -59.01

    payload = _single(wage=900)
    payload["members"][0]["shoe_size"] = 42
    response = client.post("/api/v1/counterfactual", json=payload)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid" and response.json()["field"] == "members[0].shoe_size"
    response = client.post("/api/v1/counterfactual", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["field"] is None
