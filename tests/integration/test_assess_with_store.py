"""`assess` takes local standards from the store when the input leaves them out."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from safetynet.cli.main import app
from tests.conftest import ClientFactory
from tests.factories import write_csv

HEADER = ["region", "registration", "kind", "effective_from", "amount", "source"]


def _household(**overrides) -> dict:
    member = {"id": "p1", "birth_date": "1980-01-01", "relation": "head",
              "income_monthly": {"wage": 900}}
    return {"as_of": "2025-07-01", "region": "370402001001", "registration": "urban",
            "members": [member], **overrides}


def _store_standards(engine, tmp_path, dibao: str) -> None:
    from safetynet.standards import service

    service.import_standards(engine, path=write_csv(tmp_path / "std.csv", HEADER, [
        ["370402", "urban", "dibao", "2025-01-01", dibao, "test"]]))


def test_api_assess_uses_county_standard_from_store(engine, tmp_path):
    client = ClientFactory(engine)("township_caseworker", "370402001000")
    # provincial default urban standard 1,010 > 900: dibao without a county standard
    assert client.post("/api/v1/assess", json=_household()).json()["household_tier"] == "dibao"
    _store_standards(engine, tmp_path, "880")  # the county's own standard is lower
    result = client.post("/api/v1/assess", json=_household()).json()
    assert result["household_tier"] != "dibao"
    # an explicit local_policy value still wins over the store
    explicit = client.post("/api/v1/assess", json=_household(local_policy={"dibao_standard": 941}))
    assert explicit.json()["household_tier"] == "dibao"
    assert explicit.json()["benefits_monthly"]["dibao"] == 41.0


def test_cli_assess_uses_store(settings_env, engine, tmp_path):
    _store_standards(engine, tmp_path, "950")
    f = tmp_path / "h.json"
    f.write_text(json.dumps(_household()), encoding="utf-8")
    r = CliRunner().invoke(app, ["assess", str(f)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["household_tier"] == "dibao" and out["benefits_monthly"]["dibao"] == 50.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_household(colour="red")), encoding="utf-8")
    r = CliRunner().invoke(app, ["assess", str(bad)])
    assert r.exit_code == 2 and "colour" in r.stderr


def test_counterfactual_command_is_reachable(settings_env, engine, tmp_path):
    _store_standards(engine, tmp_path, "941")
    f = tmp_path / "h.json"
    f.write_text(json.dumps(_household()), encoding="utf-8")
    r = CliRunner().invoke(app, ["counterfactual", str(f)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    up = next(b for b in out["boundaries"] if b["direction"] == "income_up")
    # 900 + 41 = 941 is no longer below the county's standard of 941
    assert (out["baseline"]["household_tier"], up["change"], up["to_tier"]) == ("dibao", 41.0, "dibao_edge")
