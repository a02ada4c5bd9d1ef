"""Record linkage of quarantined feed rows (docs/contracts/feeds.md) on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from safetynet.feeds import service as feeds
from safetynet.feeds import store as feeds_store
from safetynet.linkage import model, service
from safetynet.linkage.api import router
from safetynet.linkage.cli import app as linkage_app
from safetynet.registry.service import import_register
from safetynet.synth.service import generate
from tests.factories import make_id, write_csv

MED = ["record_id", "id_number", "name", "birth_date", "region", "settled_on", "kind", "total_cost",
       "fund_paid", "out_of_pocket", "diagnosis_group"]
HOTLINE = ["record_id", "id_number", "name", "birth_date", "region", "received_at", "phone", "category",
           "text"]
SCORE_PERSONS, SCORE_MONTHS, SCORE_SEED = 10_000, 2, 7


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:  # noqa: ANN001
    out = tmp_path_factory.mktemp("linkprov") / "synth"
    generate(persons=3000, months=2, seed=7, out=out)
    return out


@pytest.fixture(scope="module")
def shared_model(tmp_path_factory) -> Path:  # noqa: ANN001
    """Trained by the first test that links (the register is the same in every test)."""
    return tmp_path_factory.mktemp("linkmodel") / "model.json"


def _register(province: Path) -> list[dict]:
    hh = {r["household_id"]: r for r in csv.DictReader((province / "registry" / "households.csv").open())}
    persons = list(csv.DictReader((province / "registry" / "persons.csv").open()))
    return [p | {"region": hh[p["household_id"]]["region"], "phone": hh[p["household_id"]]["phone"]}
            for p in persons]


def _typo(id_number: str) -> str:
    """One digit changed: always breaks the check digit."""
    d = id_number[10]
    return id_number[:10] + str((int(d) + 3) % 10) + id_number[11:]


def _row(rid: str, id_number: str, p: dict, birth: str | None = "same",
         region: str | None = "same") -> list[str]:
    return [rid, id_number, p["name"], p["birth_date"] if birth == "same" else (birth or ""),
            p["region"] if region == "same" else (region or ""),
            "2025-10-03", "inpatient", "100.00", "60.00", "40.00", "白内障"]


def _quarantine(engine: Engine) -> dict[str, dict]:
    with engine.connect() as c:
        return {r["record_id"]: dict(r) for r in c.execute(select(feeds_store.quarantine)).mappings()}


def test_hand_made_links_and_unknown(engine: Engine, tmp_path: Path, province: Path,
                                     shared_model: Path) -> None:
    import_register(engine, directory=province / "registry")
    people = _register(province)
    a, b, ok = people[10], people[20], people[30]
    stranger = {"name": "欧阳测试", "birth_date": "1901-02-03", "region": a["region"]}
    path = write_csv(tmp_path / "in" / "medical_202510.csv", MED, [
        _row("M1", _typo(a["id_number"]), a),
        _row("M2", "", b),
        _row("M3", "", stranger),
        _row("M4", ok["id_number"], ok),
    ])
    lake = tmp_path / "lake"
    [load] = feeds.ingest(engine, paths=[path], lake_dir=lake, actor="test")
    assert (load.accepted, load.quarantined) == (1, 3)

    r = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake)
    assert (r.rows, r.linked, r.review, r.no_match) == (3, 2, 0, 1)
    q = _quarantine(engine)
    for rid, person in (("M1", a), ("M2", b)):
        assert q[rid]["resolved_at"] is not None
        res = json.loads(q[rid]["resolution"])
        assert res["id_number"] == person["id_number"] and res["match_probability"] >= 0.99
    assert q["M3"]["resolved_at"] is None and q["M3"]["reason"] == service.NO_MATCH

    # the linked rows are in the lake, found by the feeds' own reader, and counted on the load
    files = feeds.lake_files(engine, "medical")
    assert len(files) == 2 and files[1].parent == files[0].parent
    linked = pq.read_table(files[1])
    assert sorted(linked.column("id_number").to_pylist()) == sorted([a["id_number"], b["id_number"]])
    assert linked.schema.field("total_cost_fen").type == pq.read_table(files[0]).schema.field(
        "total_cost_fen").type
    with engine.connect() as c:
        counts = c.execute(select(feeds_store.feed_loads).where(
            feeds_store.feed_loads.c.id == load.load_id)).mappings().one()
    assert (counts["accepted"], counts["linked"], counts["quarantined"]) == (3, 2, 1)
    # the feed's register share counts the rows that came with a valid id (M4: 1 of 1, so
    # (1 + 1) / (1 + 2)), not the rows linked since
    with engine.connect() as c:
        persons, _ = service.registry_persons(c)
        assert service.register_shares(c, {"medical"}, persons, lake) == {"medical": 2 / 3}

    # a second run changes nothing for linked rows; the unknown is retried and stays
    again = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake)
    assert (again.rows, again.linked, again.no_match) == (1, 0, 1)
    # the same rows in a new delivery are duplicates, not new quarantine
    path2 = write_csv(tmp_path / "in2" / "medical_202510_02.csv", MED, [
        _row("M1", _typo(a["id_number"]), a), _row("M2", "", b)])
    [load2] = feeds.ingest(engine, paths=[path2], lake_dir=lake, actor="test")
    assert (load2.duplicate, load2.quarantined) == (2, 0)


def test_ingest_links_with_a_trained_model(engine: Engine, tmp_path: Path, province: Path,
                                           shared_model: Path) -> None:
    import_register(engine, directory=province / "registry")
    if not shared_model.is_file():
        service.train(engine, model_path=shared_model)
    people = _register(province)
    a, b, c, d, ok = people[11], people[21], people[41], people[51], people[31]
    stranger = {"name": "欧阳测试", "birth_date": "1901-02-03", "region": a["region"]}
    elsewhere = d["region"][:6] + "999999"  # another village of d's county
    path = write_csv(tmp_path / "in" / "medical_202510.csv", MED, [
        _row("L1", _typo(a["id_number"]), a), _row("L2", "", b), _row("L3", "", stranger),
        _row("L4", ok["id_number"], ok), _row("L5", "", c, birth=None), _row("L6", "", d, None, elsewhere)])
    lake = tmp_path / "lake"
    # no model at the path: nothing is linked, the rows wait in quarantine
    [plain] = feeds.ingest(engine, paths=[path], lake_dir=lake, actor="test",
                           linking=feeds.Linking(tmp_path / "none.json"))
    assert (plain.accepted, plain.linked, plain.quarantined) == (1, 0, 5)

    # with ten more rows of registered persons, the feed's people are mostly registered (12 of 12)
    path2 = write_csv(tmp_path / "in2" / "medical_202511.csv", MED, [
        _row("N1", _typo(a["id_number"]), a), _row("N2", "", b), _row("N3", "", stranger),
        _row("N4", ok["id_number"], ok), _row("N5", "", c, birth=None), _row("N6", "", d, None, elsewhere),
        *(_row(f"V{k}", p["id_number"], p) for k, p in enumerate(people[100:110]))])
    [r] = feeds.ingest(engine, paths=[path2], lake_dir=lake, actor="test",
                       linking=feeds.Linking(shared_model, threshold_auto=0.99, threshold_review=0.5))
    assert (r.rows, r.accepted, r.linked) == (16, 14, 3)
    assert r.quarantined == 2 and {e["line"] for e in r.errors} == {4, 7}  # the stranger, the N6 row
    q = _quarantine(engine)
    assert json.loads(q["N1"]["resolution"])["id_number"] == a["id_number"]
    # name and village alone: the only such person in a register holding most of the feed's people
    assert json.loads(q["N5"]["resolution"])["id_number"] == c["id_number"]
    assert q["N3"]["reason"] == service.NO_MATCH
    assert q["N6"]["reason"] == service.IN_REVIEW  # name and county only: probable, to review
    [candidate] = service.list_candidates(engine)["items"]
    assert candidate["record_id"] == "N6" and candidate["person_id_number"] == d["id_number"]
    assert 0.5 <= candidate["match_probability"] < 0.99
    # the other load is untouched
    assert {q[k]["resolved_at"] is None for k in ("L1", "L2", "L3", "L5", "L6")} == {True}

    files = feeds.lake_files(engine, "medical")
    assert len(files) == 3
    linked = pq.read_table(files[2])
    assert sorted(linked.column("record_id").to_pylist()) == ["N1", "N2", "N5"]
    assert set(linked.column("linked_by").to_pylist()) == {"auto"}
    assert min(linked.column("match_probability").to_pylist()) >= 0.99
    assert set(linked.column("load_id").to_pylist()) == {r.load_id}
    with engine.connect() as conn:
        ledger = conn.execute(select(feeds_store.feed_loads).where(
            feeds_store.feed_loads.c.id == r.load_id)).mappings().one()
        names = {x[0] for x in conn.execute(select(feeds_store.feed_loads.c.file_name))}
    assert (ledger["accepted"], ledger["linked"], ledger["quarantined"]) == (14, 3, 2)
    assert {e["line"] for e in ledger["errors"]} == {4, 7}
    assert names == {"medical_202510.csv", "medical_202511.csv"}  # no placeholder ledger rows
    recs = {x["record_id"]: x for x in feeds.current_records(engine, feed="medical")}
    assert recs["N2"]["id_number"] == b["id_number"] and recs["N2"]["is_current"]


def test_row_posteriors_weigh_the_candidates_against_each_other() -> None:
    """The pair model's odds of ~80 (name + village agree) are 0.988 on their own; as the
    only candidate of a row from a feed whose people are mostly registered, near certain;
    shared with an equally good second candidate, a coin toss; from a feed whose people
    are seldom registered, far from certain."""
    pair = {"match_weight": math.log2(80)}
    mostly_registered = model.not_in_register_odds(0.94, 0.003)
    [(alone, _)] = model.row_posteriors([pair], mostly_registered)
    assert alone >= 0.99
    [(first, _), (second, _)] = model.row_posteriors([pair, dict(pair)], mostly_registered)
    assert first == second and 0.49 < first < 0.5
    [(rare, _)] = model.row_posteriors([pair], model.not_in_register_odds(0.05, 0.003))
    assert rare < 0.99
    # at π = 1/2 and nothing unscored, a lone candidate keeps its pair probability
    [(same, _)] = model.row_posteriors([pair], model.not_in_register_odds(0.5, 0.0))
    assert same == pytest.approx(80 / 81)
    assert model.row_posteriors([], mostly_registered) == []
    with pytest.raises(ValueError, match="register share"):
        model.not_in_register_odds(0.0, 0.0)


@pytest.mark.parametrize(("feed_people", "outcome"), [("registered", "auto"), ("strangers", "review")])
def test_a_weak_match_is_linked_only_where_the_feed_people_are_registered(
        engine: Engine, tmp_path: Path, province: Path, shared_model: Path, feed_people: str,
        outcome: str) -> None:
    """The same row (name and village only) is linked at once when the feed's rows with an
    id are mostly registered persons, and goes to review when they are mostly strangers:
    then its person is likely not in the register, and a namesake is a real risk."""
    import_register(engine, directory=province / "registry")
    if not shared_model.is_file():
        service.train(engine, model_path=shared_model)
    people = _register(province)
    weak = people[60]
    if feed_people == "registered":
        others = people[100:110]
    else:
        others = [{"id_number": make_id(f"19{50 + k}-03-04", seq=k), "birth_date": f"19{50 + k}-03-04",
                   "name": "陌生" + "甲乙丙丁戊己庚辛壬癸"[k], "region": weak["region"]} for k in range(10)]
    rows = [_row(f"V{k}", p["id_number"], p) for k, p in enumerate(others)]
    rows.append(_row("W1", "", weak, birth=None))
    lake = tmp_path / "lake"
    feeds.ingest(engine, paths=[write_csv(tmp_path / "in" / "medical_202510.csv", MED, rows)], lake_dir=lake,
                 actor="test")
    r = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake)
    w1 = _quarantine(engine)["W1"]
    if outcome == "auto":
        assert (r.linked, r.review) == (1, 0)
        assert json.loads(w1["resolution"])["id_number"] == weak["id_number"]
    else:
        assert (r.linked, r.review) == (0, 1) and w1["reason"] == service.IN_REVIEW
        [top, *_] = service.list_candidates(engine)["items"]
        assert top["person_id_number"] == weak["id_number"] and top["match_probability"] < 0.99


def test_a_hotline_caller_is_found_by_the_household_phone(engine: Engine, tmp_path: Path, province: Path,
                                                          shared_model: Path) -> None:
    """A hotline row with only the caller's name and phone: the phone is the household's in
    the register, which with the name points at one person; the name alone does not."""
    import_register(engine, directory=province / "registry")
    if not shared_model.is_file():
        service.train(engine, model_path=shared_model)
    people = _register(province)
    caller = people[70]
    assert caller["phone"]

    def call(rid: str, phone: str) -> list[str]:
        return [rid, "", caller["name"], "", "", "2025-10-05", phone, "help_request", "生活困难"]

    path = write_csv(tmp_path / "in" / "hotline_202510.csv", HOTLINE, [
        call("H1", "+86 " + caller["phone"]), call("H2", "")])
    lake = tmp_path / "lake"
    feeds.ingest(engine, paths=[path], lake_dir=lake, actor="test")
    r = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake)
    q = _quarantine(engine)
    assert r.linked == 1 and json.loads(q["H1"]["resolution"])["id_number"] == caller["id_number"]
    assert q["H2"]["resolved_at"] is None


def _review_setup(engine: Engine, tmp_path: Path, province: Path, shared_model: Path) -> tuple[list, Path]:
    import_register(engine, directory=province / "registry")
    people = _register(province)
    c, d = people[40], people[50]
    path = write_csv(tmp_path / "in" / "medical_202510.csv", MED, [
        _row("R1", "", c, birth=None), _row("R2", "", d, birth=None)])
    lake = tmp_path / "lake"
    feeds.ingest(engine, paths=[path], lake_dir=lake, actor="test")
    # name and region alone: probable, not certain, so both go to review
    r = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake, threshold_auto=0.999999)
    assert (r.linked, r.review) == (0, 2)
    return [c, d], lake


def test_review_queue_round_trip(engine: Engine, tmp_path: Path, province: Path, shared_model: Path) -> None:
    (c, d), lake = _review_setup(engine, tmp_path, province, shared_model)
    page = service.list_candidates(engine)
    by_record = {}
    for item in page["items"]:
        by_record.setdefault(item["record_id"], []).append(item)
    top_c, top_d = by_record["R1"][0], by_record["R2"][0]
    assert top_c["person_id_number"] == c["id_number"] and top_d["person_id_number"] == d["id_number"]

    out = service.accept(engine, top_c["id"], "clerk", lake_dir=lake)
    assert out["id_number"] == c["id_number"]
    for item in by_record["R2"]:
        service.reject(engine, item["id"], "clerk")
    q = _quarantine(engine)
    assert json.loads(q["R1"]["resolution"])["how"] == "review" and q["R1"]["resolved_by"] == "clerk"
    assert q["R2"]["resolved_at"] is None and q["R2"]["reason"].startswith(service.NO_MATCH)
    assert len(feeds.lake_files(engine, "medical")) == 1  # only the linked row's file
    assert service.list_candidates(engine)["total"] == 0
    with pytest.raises(service.CandidateError):
        service.accept(engine, top_c["id"], "clerk", lake_dir=lake)
    # a rejected pair is not proposed again
    again = service.link_quarantine(engine, model_path=shared_model, lake_dir=lake, threshold_auto=0.999999)
    assert again.rows == 1
    assert all(i["person_id"] != top_d["person_id"] for i in service.list_candidates(engine)["items"])


def test_review_queue_api_and_cli(engine: Engine, settings_env: Path, tmp_path: Path, province: Path,
                                  shared_model: Path) -> None:
    (c, d), lake = _review_setup(engine, tmp_path, province, shared_model)
    app = FastAPI()
    app.state.engine = engine
    app.include_router(router)
    client = TestClient(app)
    page = client.get("/linkage/candidates", params={"limit": 1}).json()
    assert page["limit"] == 1 and len(page["items"]) == 1 and page["total"] >= 2
    first = page["items"][0]
    assert "*" in first["person"]["id_number"] and "*" in first["person"]["name"]

    # accept through the API: the lake of the settings' data dir
    (settings_env / "linkage").mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_model, settings_env / "linkage" / "model.json")
    ok = client.post(f"/linkage/candidates/{first['id']}/accept", json={"actor": "clerk"})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    assert client.post(f"/linkage/candidates/{first['id']}/accept").status_code == 409
    assert client.post("/linkage/candidates/999999/reject").status_code == 404

    cli = typer.Typer()
    cli.add_typer(linkage_app, name="linkage")
    runner = CliRunner()
    queue = runner.invoke(cli, ["linkage", "queue", "--json"])
    assert queue.exit_code == 0, queue.output
    pending = json.loads(queue.stdout)["items"]
    assert pending and {i["record_id"] for i in pending} == {"R2"}
    rejected = runner.invoke(cli, ["linkage", "reject", str(pending[0]["id"])])
    assert rejected.exit_code == 0 and json.loads(rejected.stdout)["status"] == "rejected"
    assert runner.invoke(cli, ["linkage", "reject", str(pending[0]["id"])]).exit_code == 1
    run = runner.invoke(cli, ["linkage", "run", "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["model_trained"] is False


def test_synthetic_province_precision_and_recall(engine: Engine, tmp_path: Path, record_property) -> None:  # noqa: ANN001
    """Goal: auto-link precision >= 0.99 and recall >= 0.95 against the synthetic truth
    (docs/benchmarks.md "Record linkage" has the figures on larger provinces)."""
    out = tmp_path / "synth"
    generate(persons=SCORE_PERSONS, months=SCORE_MONTHS, seed=SCORE_SEED, out=out)
    import_register(engine, directory=out / "registry")
    feeds.ingest(engine, paths=[out / "feeds"], lake_dir=tmp_path / "lake", actor="test")
    r = service.link_quarantine(engine, model_path=tmp_path / "model.json", lake_dir=tmp_path / "lake")
    s = service.score(engine, out / "truth")
    record_property("linkage_score", json.dumps(s | r.as_dict()))
    assert s["linkable"] >= 30
    assert s["precision"] >= 0.99, s
    assert s["recall"] >= 0.95, s
    assert s["recall_with_review"] >= s["recall"], s
