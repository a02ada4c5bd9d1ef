"""The registry as a user reaches it: the `safetynet` command and the HTTP API."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safetynet.api.app import create_app
from safetynet.cli.main import app
from tests.factories import sample_register, write_register

runner = CliRunner()


def test_registry_import_cli_json_and_exit_codes(settings_env, tmp_path):
    d = write_register(tmp_path / "reg", *sample_register())
    r = runner.invoke(app, ["registry", "import", str(d), "--json", "--as-of", "2025-07-01"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["status"] == "loaded" and report["counts"]["persons"]["new"] == 6
    again = json.loads(runner.invoke(app, ["registry", "import", str(d), "--json",
                                           "--as-of", "2025-07-01"]).stdout)
    assert again["status"] == "unchanged"

    h, p = sample_register()
    p[0][1] = "370402197504020000"
    bad = write_register(tmp_path / "bad", h, p)
    r = runner.invoke(app, ["registry", "import", str(bad), "--json"])
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["status"] == "rejected"
    where = [(e["file"], e["line"], e["column"]) for e in out["errors"]]
    assert ("persons.csv", 2, "id_number") in where

    assert runner.invoke(app, ["registry", "import", str(tmp_path / "nowhere")]).exit_code == 2
    assert runner.invoke(app, ["registry", "import", str(d), "--as-of", "July"]).exit_code == 2


def test_registry_show_masks_by_default(settings_env, tmp_path):
    d = write_register(tmp_path / "reg", *sample_register())
    runner.invoke(app, ["registry", "import", str(d), "--as-of", "2025-07-01"])
    shown = runner.invoke(app, ["registry", "show", "H002"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "王**" in shown.stdout and "王桂兰" not in shown.stdout
    assert runner.invoke(app, ["registry", "show", "NOPE"]).exit_code == 1


def test_api_health_summary_and_household(engine, tmp_path, client_as):
    from safetynet.registry import service

    service.import_register(engine, directory=write_register(tmp_path / "r", *sample_register()))
    anonymous = TestClient(create_app(engine))
    health = anonymous.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["database"] == engine.dialect.name
    assert anonymous.get("/api/v1/openapi.json").status_code == 200
    assert anonymous.get("/api/v1/registry/summary").status_code == 401  # sign-in required
    client = client_as("township_caseworker", "370402001000")
    summary = client.get("/api/v1/registry/summary").json()
    assert summary["persons_by_tier"] == {"dibao": 4, "extremely_poor": 1, "dibao_edge": 1}
    hh = client.get("/api/v1/households/H001").json()
    assert hh["tier"] == "dibao" and hh["members"][0]["name"] == "张**"
    benefit = {m["person_id"]: m["monthly_benefit_fen"] for m in hh["sensitive"]["members"]}
    assert benefit[hh["members"][0]["person_id"]] == 32000
    missing = client.get("/api/v1/households/NOPE")
    assert missing.status_code == 404 and missing.json()["message_zh"]
    home = client.get("/")
    assert home.status_code == 200 and "低收入人口动态监测平台" in home.text
