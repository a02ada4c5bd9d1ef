"""Batch assessment saved as dated runs: known households get known tiers and changes
against their enrolments, runs are history, a crash leaves nothing, CLI and API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from safetynet.assessment import model, service, store
from safetynet.assessment.model import AssessmentInputError
from safetynet.feeds import service as feeds_service
from safetynet.identity import mask_household_no
from safetynet.registry import service as registry_service
from safetynet.standards import service as standards_service
from tests.factories import VILLAGE, make_id, write_csv, write_register

MONTH = "2025-07"
COMMON = ["record_id", "id_number", "name"]
STD_HEADER = ["region", "registration", "kind", "effective_from", "amount", "source"]

# (household, registration, registered tier, [(id, name, birth, monthly wage yuan)])
A1, A2 = make_id("1980-01-01", 11, sex="M"), make_id("1982-02-02", 12, sex="F")
B1 = make_id("1979-03-03", 21, sex="M")
C1, C2 = make_id("1975-04-04", 31, sex="M"), make_id("2000-05-05", 32, sex="F")
D1 = make_id("1985-06-06", 41, sex="F")
E1 = make_id("1990-07-07", 51, sex="M")
HOUSEHOLDS = [
    ("HH0000000001", "dibao", [(A1, "张建国", "1980-01-01", "head", "500"), (A2, "李秀英", "1982-02-02",
                                                                              "spouse", "")]),
    ("HH0000000002", "dibao", [(B1, "王强", "1979-03-03", "head", "3000")]),
    ("HH0000000003", "", [(C1, "赵明", "1975-04-04", "head", "2400"), (C2, "赵小红", "2000-05-05",
                                                                       "child", "")]),
    ("HH0000000004", "dibao_edge", [(D1, "孙丽", "1985-06-06", "head", "")]),
    ("HH0000000005", "", [(E1, "周杰", "1990-07-07", "head", "5000")]),
]


# households elsewhere (region, household, registered tier, members): another township of the
# same county, another county of the same city, a county of another city
ELSEWHERE = [
    ("370402002001", "HH0000000006", "dibao", [(make_id("1960-01-01", 61, sex="M"), "钱进", "1960-01-01",
                                                  "head", "300")]),
    ("370403001001", "HH0000000007", "", [(make_id("1970-02-02", 71, "370403", sex="F"), "吴梅", "1970-02-02",
                                            "head", "")]),
    ("370102001001", "HH0000000008", "dibao_edge", [(make_id("1965-03-03", 81, "370102", sex="M"), "郑山",
                                                      "1965-03-03", "head", "2000")]),
]


def _register(engine: Engine, tmp_path: Path, *, elsewhere: bool = False) -> Path:
    everyone = [(VILLAGE, *h) for h in HOUSEHOLDS] + (ELSEWHERE if elsewhere else [])
    households = [[no, region, "urban", "", "", ""] for region, no, _, _ in everyone]
    persons = [[no, pid, name, "", birth, rel, tier, "2024-01-01" if tier else "", "", "", ""]
               for _, no, tier, members in everyone for pid, name, birth, rel, _ in members]
    registry_service.import_register(engine, directory=write_register(tmp_path / "reg", households, persons),
                                     as_of=dt.date(2025, 1, 1))
    standards_service.import_standards(engine, path=write_csv(tmp_path / "std.csv", STD_HEADER, [
        [county, "urban", kind, "2025-01-01", amount, "2025"] for county in ("370402", "370403", "370102")
        for kind, amount in (("dibao", "941"), ("extremely_poor_basic", "1255"))]))
    feeds = tmp_path / "feeds"
    write_csv(feeds / "social_insurance_202507.csv", [*COMMON, "month", "kind", "employer", "amount"], [
        [f"SI{i}", pid, name, MONTH, "wage", "某单位", wage]
        for i, (_, _, _, members) in enumerate(everyone) for pid, name, _, _, wage in members if wage])
    # the daughter of household 3 is severely disabled: single-person dibao in an edge family
    write_csv(feeds / "disability_202507.csv", [*COMMON, "category", "grade", "issued_on", "status"], [
        ["D1", C2, "赵小红", "physical", "1", "2015-01-01", "valid"]])
    lake = tmp_path / "lake"
    feeds_service.ingest(engine, paths=[feeds], lake_dir=lake, actor="test")
    return lake


def _results(engine: Engine, run_id: int) -> dict[str, dict]:
    a = store.assessment_results
    with engine.connect() as c:
        rows = c.execute(select(a).where(a.c.run_id == run_id)).mappings().all()
    return {r["household_no"]: dict(r) for r in rows}


def _count(engine: Engine, table) -> int:  # noqa: ANN001
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_known_households_tiers_and_changes(engine: Engine, tmp_path: Path) -> None:
    lake = _register(engine, tmp_path)
    run = service.run_assessment(engine, month=MONTH, actor="test", lake_dir=lake)
    assert run["status"] == "completed" and run["as_of"] == "2025-07-31" and run["region"] is None
    assert run["households"] == 5 and run["persons"] == 7
    got = _results(engine, run["id"])
    # 1: per capita 250 < 941, enrolled dibao → dibao, unchanged; benefit (941 − 250) × 2
    assert got["HH0000000001"]["tier"] == "dibao" and got["HH0000000001"]["change"] == "unchanged"
    assert got["HH0000000001"]["benefit_fen"] == (94100 - 25000) * 2
    assert got["HH0000000001"]["per_capita_income_fen"] == 25000
    # 2: 3,000 > 1.5 × 941: enrolled dibao, no longer qualifies → exit
    assert (got["HH0000000002"]["tier"], got["HH0000000002"]["change"]) == ("none", "exit")
    assert got["HH0000000002"]["registered_tier"] == "dibao" and got["HH0000000002"]["benefit_fen"] == 0
    # 3: per capita 1,200 between 941 and 1,411.5, not enrolled → dibao edge, new
    assert (got["HH0000000003"]["tier"], got["HH0000000003"]["change"]) == ("dibao_edge", "new")
    assert got["HH0000000003"]["registered_tier"] is None
    # 4: no income, enrolled edge → dibao: up (deeper help); full standard paid
    assert (got["HH0000000004"]["tier"], got["HH0000000004"]["change"]) == ("dibao", "up")
    assert got["HH0000000004"]["benefit_fen"] == 94100
    # 5: well off, not enrolled → none, unchanged
    assert (got["HH0000000005"]["tier"], got["HH0000000005"]["change"]) == ("none", "unchanged")
    assert all(r["dibao_standard_fen"] == 94100 and r["county_code"] == "370402" for r in got.values())

    # the person-level decision: the disabled daughter's single-person dibao
    people = service.person_results(engine, run_id=run["id"])
    assert len(people) == 1 and people[0]["single_person_dibao"] is True
    assert people[0]["tier"] == "dibao" and people[0]["benefit_fen"] > 0

    s = run["summary"]
    assert s["total"]["changes"] == {"new": 1, "exit": 1, "up": 1, "down": 0, "unchanged": 2}
    assert s["total"]["changes_by_tier"]["exit"] == {"dibao": 1}
    assert s["total"]["changes_by_tier"]["new"] == {"dibao_edge": 1}
    assert s["total"]["assessed"]["dibao"] == 2 and s["total"]["registered"]["dibao"] == 2
    assert [c["code"] for c in s["counties"]] == ["370402"] and s["counties"][0]["name"]
    assert s["total"]["monthly_benefit_fen"] == run["monthly_benefit_fen"] == sum(
        r["benefit_fen"] for r in got.values())
    assert run["changed"] == 3
    assert run["provenance"]["standards"]["dibao_from_store"] == 5
    assert len(run["provenance"]["rules"]["rules_sha256"]) == 64
    assert set(run["timings"]) == {"facts", "assess", "write"}

    # changes listing: changed only by default, masked household numbers, filters
    page = service.list_changes(engine, run_id=run["id"])
    assert page["total"] == 3 and [x["change"] for x in page["items"]] == ["exit", "new", "up"]
    assert page["items"][0]["household_no"] == "HH******0002" and page["items"][0]["change_label"] == "退出"
    only = service.list_changes(engine, run_id=run["id"], change="exit")
    assert only["total"] == 1 and only["items"][0]["registered_tier"] == "dibao"
    everyone = service.list_changes(engine, run_id=run["id"], include_unchanged=True, page=2, page_size=2)
    assert everyone["total"] == 5 and len(everyone["items"]) == 2
    with pytest.raises(AssessmentInputError) as e:
        service.list_changes(engine, run_id=run["id"], change="left")
    assert e.value.field == "change"


def test_rerun_is_a_new_run_and_crash_leaves_nothing(engine: Engine, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    lake = _register(engine, tmp_path)
    first = service.run_assessment(engine, month=MONTH, actor="a", lake_dir=lake)
    before = _results(engine, first["id"])
    # the same month again: a second run with equal results, the first untouched
    second = service.run_assessment(engine, month=MONTH, actor="b", lake_dir=lake)
    assert second["id"] != first["id"]
    assert _results(engine, first["id"]) == before
    assert {k: {**v, "run_id": 0} for k, v in _results(engine, second["id"]).items()} == \
        {k: {**v, "run_id": 0} for k, v in before.items()}
    listing = service.list_runs(engine)
    assert listing["total"] == 2 and [r["id"] for r in listing["items"]] == [second["id"], first["id"]]
    assert service.get_run(engine, run_id=first["id"])["actor"] == "a"

    runs, results = _count(engine, store.assessment_runs), _count(engine, store.assessment_results)
    persons = _count(engine, store.assessment_person_results)
    calls = []

    def boom(conn, table, rows):  # noqa: ANN001, ANN202
        calls.append(table.name)
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "bulk_insert", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        service.run_assessment(engine, month=MONTH, actor="c", lake_dir=lake)
    assert calls == ["assessment_results"]  # it failed after the run row was inserted
    assert (_count(engine, store.assessment_runs), _count(engine, store.assessment_results),
            _count(engine, store.assessment_person_results)) == (runs, results, persons)
    assert service.list_runs(engine)["total"] == 2


def test_bad_input(engine: Engine, tmp_path: Path) -> None:
    for kwargs, field in (({"month": "2025-13"}, "month"), ({"month": "July"}, "month"),
                          ({"month": MONTH, "region": "37x"}, "region"),
                          ({"month": MONTH, "region": "3799"}, "region")):
        with pytest.raises(AssessmentInputError) as e:
            service.run_assessment(engine, actor="t", lake_dir=tmp_path, **kwargs)
        assert e.value.field == field
    with pytest.raises(AssessmentInputError) as e:
        service.list_runs(engine, page=0)
    assert e.value.field == "page"
    with pytest.raises(AssessmentInputError) as e:
        service.list_runs(engine, page_size=501)
    assert e.value.field == "page_size"
    from safetynet.errors import NotFoundError
    with pytest.raises(NotFoundError):
        service.get_run(engine, run_id=999)
    assert _count(engine, store.assessment_runs) == 0


def test_change_kinds_and_masking() -> None:
    reg = np.array([None, "dibao", "dibao_edge", "dibao", "anti_relapse", "extremely_poor", None],
                   dtype=object)
    got = np.array(["dibao", "none", "dibao", "dibao_edge", "none", "extremely_poor", "none"])
    assert model.change_kinds(reg, got).tolist() == ["new", "exit", "up", "down", "unchanged", "unchanged",
                                                     "unchanged"]
    assert mask_household_no("370402198001010011") == "370402********0011"
    assert mask_household_no("H000000009") == "H0****0009"
    assert mask_household_no("12345678") == "****5678"
    assert model.check_region("370400000000") == "3704"


def test_synthetic_province_matches_simulation_baseline(engine: Engine, tmp_path: Path,
                                                         synthetic_province: Path) -> None:
    """The run and the simulation's baseline go through the same facts → standards → rules
    chain: the same tiers, benefits and standards for every household."""
    from safetynet.simulation import service as simulation_service

    as_of = dt.date(2025, 2, 28)
    registry_service.import_register(engine, directory=synthetic_province / "registry", as_of=as_of,
                                     partial=True)
    standards_service.import_standards(engine, path=synthetic_province / "standards" / "standards.csv")
    lake = tmp_path / "lake"
    feeds_service.ingest(engine, paths=[synthetic_province / "feeds"], lake_dir=lake, actor="test")
    run = service.run_assessment(engine, month="2025-02", actor="test", lake_dir=lake)
    sim = simulation_service.simulate(engine, month="2025-02", dibao_change="+0%", region=None, lake_dir=lake)
    got = _results(engine, run["id"])
    by_id = {r["household_id"]: r for r in got.values()}
    assert len(by_id) == len(sim.household_ids) == run["households"] > 100
    for i, hid in enumerate(sim.household_ids.tolist()):
        r = by_id[hid]
        assert (r["tier"], r["benefit_fen"], r["dibao_standard_fen"]) == (
            sim.baseline_tier[i], int(sim.baseline_benefit_fen[i]), int(sim.baseline_dibao_standard_fen[i]))
    total = run["summary"]["total"]
    assert sum(total["changes"].values()) == run["households"]
    assert sum(c["households"] for c in run["summary"]["counties"]) == run["households"]
    assert total["registered"]["dibao"] > 0 and total["changes"]["unchanged"] > 0
    # the enrolment carries the verified supporter condition: enrolled extremely-poor
    # households with no means of living stay extremely poor; nobody else becomes one
    kept = [r for r in by_id.values()
            if r["registered_tier"] == "extremely_poor" and r["tier"] == "extremely_poor"]
    assert kept and all(r["registered_tier"] == "extremely_poor" for r in by_id.values()
                        if r["tier"] == "extremely_poor")

    # one city only
    city = run["summary"]["counties"][0]["code"][:4]
    part = service.run_assessment(engine, month="2025-02", region=city, actor="test", lake_dir=lake)
    assert part["region"] == city and all(c["code"].startswith(city) for c in part["summary"]["counties"])
    assert part["households"] == sum(c["households"] for c in run["summary"]["counties"]
                                     if c["code"].startswith(city))


def test_api(engine: Engine, tmp_path: Path, client_as) -> None:  # noqa: ANN001
    client_as.app.state.lake_dir = _register(engine, tmp_path)
    client = client_as("province_admin", "37")
    made = client.post("/api/v1/assessment-runs", json={"month": MONTH, "region": "370402"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["households"] == 5 and body["summary"]["total"]["changes"]["exit"] == 1
    client.post("/api/v1/assessment-runs", json={"month": MONTH})
    listing = client.get("/api/v1/assessment-runs", params={"page": 1, "page_size": 1}).json()
    assert listing["total"] == 2 and listing["page_size"] == 1 and len(listing["items"]) == 1
    assert listing["items"][0]["id"] != body["id"]  # newest first
    one = client.get(f"/api/v1/assessment-runs/{body['id']}").json()
    assert one["region"] == "370402" and one["summary"]["counties"][0]["code"] == "370402"
    changed = client.get(f"/api/v1/assessment-runs/{body['id']}/changes").json()["total"]
    changes = client.get(f"/api/v1/assessment-runs/{body['id']}/changes", params={"change": "new"}).json()
    assert changes["total"] == 1 and changes["items"][0]["household_no"] == "HH******0003"
    assert changes["items"][0]["tier"] == "dibao_edge"
    assert "HH0000000003" not in json.dumps(changes)
    bad = client.post("/api/v1/assessment-runs", json={"month": "2025-7"})
    assert bad.status_code == 422 and bad.json()["field"] == "month"
    bad = client.get(f"/api/v1/assessment-runs/{body['id']}/changes", params={"change": "gone"})
    assert bad.status_code == 422 and bad.json()["field"] == "change"
    bad = client.get("/api/v1/assessment-runs", params={"page_size": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "page_size"
    assert client.get("/api/v1/assessment-runs/999").status_code == 404
    assert client.get("/api/v1/assessment-runs/999/changes").status_code == 404
    assert made.json()["actor"] == client.username

    # region scope: the run's own county sees everything; for another county the run does not
    # exist (not its totals, not its households), and it cannot start a run outside its region
    own = client_as("county_admin", "370402")
    assert own.get(f"/api/v1/assessment-runs/{body['id']}").json()["summary"]["total"]["households"] == 5
    assert own.get(f"/api/v1/assessment-runs/{body['id']}/changes").json()["total"] == changed
    other = client_as("county_admin", "370102")
    assert other.get(f"/api/v1/assessment-runs/{body['id']}").status_code == 404
    assert other.get(f"/api/v1/assessment-runs/{body['id']}/changes").status_code == 404
    assert body["id"] not in [r["id"] for r in other.get("/api/v1/assessment-runs").json()["items"]]
    assert other.post("/api/v1/assessment-runs", json={"month": MONTH, "region": "3704"}).status_code == 404
    mine = other.post("/api/v1/assessment-runs", json={"month": MONTH})
    assert mine.status_code == 201 and mine.json()["region"] == "370102" and mine.json()["households"] == 0


def test_cli(settings_env: Path, engine: Engine, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from rich.console import Console

    from safetynet.assessment import cli
    from safetynet.assessment.cli import app

    monkeypatch.setattr(cli, "console", Console(width=220))

    lake = _register(engine, tmp_path)
    (settings_env).mkdir(parents=True, exist_ok=True)
    (settings_env / "lake").symlink_to(lake)
    runner = CliRunner()
    r = runner.invoke(app, ["run", "--month", MONTH, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["households"] == 5 and out["summary"]["total"]["changes"]["new"] == 1
    r = runner.invoke(app, ["run", "--month", MONTH, "--region", "3704"])
    assert r.exit_code == 0, r.output
    assert "批量认定 #2 2025-07（3704" in r.stdout and "变化 3 户" in r.stdout
    assert "合计" in r.stdout and "退出" in r.stdout
    r = runner.invoke(app, ["list", "--json"])
    assert json.loads(r.stdout)["total"] == 2
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0 and "3704" in r.stdout
    r = runner.invoke(app, ["show", str(out["id"]), "--changes"])
    assert r.exit_code == 0 and "HH******0002" in r.stdout and "HH0000000002" not in r.stdout
    r = runner.invoke(app, ["show", str(out["id"]), "--change", "exit", "--json"])
    assert [x["household_no"] for x in json.loads(r.stdout)["items"]] == ["HH******0002"]
    for args in (["run", "--month", "2025-13"], ["run", "--month", MONTH, "--region", "37x"],
                 ["show", str(out["id"]), "--change", "gone"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
    r = runner.invoke(app, ["show", "999"])
    assert r.exit_code == 1


def _figures(run: dict) -> dict:
    return {k: run[k] for k in ("households", "changed", "monthly_benefit_fen", "changes", "summary")}


def test_a_reader_sees_only_their_regions_part_of_a_run(engine: Engine, tmp_path: Path, client_as) -> None:  # noqa: ANN001
    """Issue 15, item 4: a run over a larger region (the whole register here) is shown to a
    county, city or township reader as their part only — exactly the figures of a run made for
    their region — and a run of another region is not there for them at all."""
    lake = _register(engine, tmp_path, elsewhere=True)
    whole = service.run_assessment(engine, month=MONTH, actor="op", lake_dir=lake)
    assert whole["households"] == 8 and whole["region"] is None
    made_for = {r: service.run_assessment(engine, month=MONTH, region=r, actor="op", lake_dir=lake)
                for r in ("370402", "3704", "370402001")}
    assert [made_for[r]["households"] for r in made_for] == [6, 7, 5]
    url = f"/api/v1/assessment-runs/{whole['id']}"
    readers = {"370402": client_as("county_admin", "370402"), "3704": client_as("city_admin", "3704"),
               "370402001": client_as("township_caseworker", "370402001000")}
    for region, reader in readers.items():
        part = reader.get(url).json()
        assert part["scoped_to"] == region and part["persons"] is None, region
        assert _figures(part) == _figures(made_for[region]), region  # county figures from the summary,
        # township figures from the run's household rows
        listed = {r["id"]: r for r in reader.get("/api/v1/assessment-runs").json()["items"]}
        assert listed[whole["id"]]["households"] == made_for[region]["households"]
        assert listed[whole["id"]]["monthly_benefit_fen"] == made_for[region]["monthly_benefit_fen"]
        assert "summary" not in listed[whole["id"]]
    # a run inside the reader's region is all theirs
    inside = readers["370402"].get(f"/api/v1/assessment-runs/{made_for['370402001']['id']}").json()
    assert inside["persons"] == made_for["370402001"]["persons"] and "scoped_to" not in inside
    # the province sees the whole run (every household is in Shandong)
    assert _figures(client_as("province_admin", "37").get(url).json()) == _figures(whole)
    # another city: the whole run's one household there, none of the 3704 runs
    jinan = client_as("county_admin", "370102")
    listing = jinan.get("/api/v1/assessment-runs").json()
    assert listing["total"] == 1 and [r["id"] for r in listing["items"]] == [whole["id"]]
    assert listing["items"][0]["households"] == 1
    for run in made_for.values():
        assert jinan.get(f"/api/v1/assessment-runs/{run['id']}").status_code == 404
        assert jinan.get(f"/api/v1/assessment-runs/{run['id']}/changes").status_code == 404
    # another township of the same county sees the county run as its part (one household)
    township2 = client_as("township_caseworker", "370402002000")
    assert township2.get(f"/api/v1/assessment-runs/{made_for['370402']['id']}").json()["households"] == 1
    assert township2.get(f"/api/v1/assessment-runs/{made_for['370402001']['id']}").status_code == 404
    # the operator's CLI sees every run whole
    assert service.list_runs(engine)["total"] == 4


def test_reading_a_runs_households_is_audited(engine: Engine, tmp_path: Path, client_as) -> None:  # noqa: ANN001
    """Issue 15, item 10: the households of a run (income, benefit, tiers) are personal data:
    each read writes an audit row naming the fields, never their values; a reader without
    registry.sensitive (the auditor) gets no amounts, as in household detail."""
    from safetynet.audit.store import audit_log

    lake = _register(engine, tmp_path)
    run = service.run_assessment(engine, month=MONTH, region="370402", actor="op", lake_dir=lake)
    caseworker = client_as("township_caseworker", "370402001000")
    auditor = client_as("auditor", "370402")
    with engine.connect() as c:
        start = c.execute(select(func.max(audit_log.c.id))).scalar_one()
    seen = caseworker.get(f"/api/v1/assessment-runs/{run['id']}/changes", params={"change": "exit"}).json()
    assert seen["items"][0]["benefit_fen"] == 0 and seen["items"][0]["per_capita_income_fen"] == 300000
    masked = auditor.get(f"/api/v1/assessment-runs/{run['id']}/changes").json()
    assert masked["total"] == 3
    assert all(x["benefit_fen"] is None and x["per_capita_income_fen"] is None for x in masked["items"])
    assert caseworker.get(f"/api/v1/assessment-runs/{run['id']}").status_code == 200  # totals: no row
    with engine.connect() as c:
        rows = c.execute(select(audit_log).where(audit_log.c.id > start).order_by(audit_log.c.id)).all()
    assert [(r.actor, r.action, r.object_type, r.object_id, json.loads(r.fields)) for r in rows] == [
        (caseworker.username, "read", "assessment_run", str(run["id"]),
         ["benefit_fen", "per_capita_income_fen", "registered_tier", "tier"]),
        (auditor.username, "read", "assessment_run", str(run["id"]), ["registered_tier", "tier"]),
    ]
    assert rows[0].purpose == "assessment run changes" and "1 households" in rows[0].detail
    assert not any("HH0000" in str(tuple(r)) or "300000" in str(tuple(r)) for r in rows)
