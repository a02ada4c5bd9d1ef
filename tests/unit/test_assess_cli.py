"""`safetynet assess FILE.json` through a tiny local typer app (the lead mounts the same
function on the main command)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from safetynet.rules.cli import assess
from tests.rules.assess_cases import SPEC_OUTPUT, spec_example

app = typer.Typer()
app.command("assess")(assess)


@app.callback()
def _root() -> None:
    """Keeps `assess` a subcommand, as on the real command."""


runner = CliRunner()


def test_valid_file_prints_json_and_exits_0(tmp_path):
    path = tmp_path / "household.json"
    path.write_text(json.dumps(spec_example(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert {k: out[k] for k in SPEC_OUTPUT} == SPEC_OUTPUT


def test_not_eligible_is_still_exit_0(tmp_path):
    payload = spec_example()
    payload["members"][0]["income_monthly"]["wage"] = 9000
    path = tmp_path / "rich.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["household_tier"] == "none"


def test_dash_reads_stdin():
    result = runner.invoke(app, ["assess", "-"], input=json.dumps(spec_example()))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["benefits_monthly"]["total"] == 1355.0


def test_invalid_input_exits_2_naming_every_field(tmp_path):
    payload = spec_example()
    payload["members"][0]["income_monthly"]["wage"] = -5
    payload["members"][0]["shoe_size"] = 42
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "members[0].income_monthly.wage" in result.stderr and "≥ 0" in result.stderr
    assert "members[0].shoe_size: unknown field" in result.stderr


def test_bad_date_and_bad_enum_exit_2(tmp_path):
    payload = spec_example()
    payload["as_of"] = "2025-02-30"
    payload["members"][0]["supporter"] = "grandson"
    result = runner.invoke(app, ["assess", "-"], input=json.dumps(payload))
    assert result.exit_code == 2
    assert "as_of: must be a date written YYYY-MM-DD" in result.stderr
    assert "members[0].supporter: must be one of none, unable, able" in result.stderr


def test_malformed_json_and_missing_file_exit_2(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"as_of": "2025-07-01",', encoding="utf-8")
    result = runner.invoke(app, ["assess", str(bad)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr and "line 1" in result.stderr
    result = runner.invoke(app, ["assess", str(tmp_path / "nowhere.json")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
