"""`monitor score`: recall and precision per rule against a hand-made truth folder, with warnings
recorded through the warnings store (events in the wrong month, outside a rule's population, before
the suppression window, a warning with no event, a death that is two rules' event)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from rich.console import Console
from sqlalchemy import Engine
from typer.testing import CliRunner

from safetynet.monitoring import score_cli
from safetynet.monitoring.catalogue import PACKAGED, load_catalogue
from safetynet.monitoring.score import KIND_RULES, ScoreInputError, score_store
from safetynet.monitoring.warnings import finish_run, record_warnings, start_run

CATALOGUE = load_catalogue(PACKAGED)
SUPPRESSION = {r.id: r.suppression_months for r in CATALOGUE} | {"village_watch": 2}
SIDE = {r.id: r.side for r in CATALOGUE} | {"village_watch": "entry"}

A, B, D, E, F, G, H, J, K = (f"3701021970010100{i:02d}" for i in range(9))

# (kind, id_number, registered, enrolled, tier, month, main_earner)
EVENTS = [
    ("death", A, True, True, "dibao", "2026-01", True),  # recipient_death and earner_death
    ("death", B, True, False, "other_concern", "2026-02", False),  # neither: not enrolled, not the earner
    ("income_drop", D, True, False, "other_concern", "2026-01", None),  # warned a month late
    ("income_drop", E, True, True, "dibao", "2026-02", None),
    ("medical_large", F, False, False, "none", "2026-03", None),  # only the feeds know F
    ("new_car", G, True, False, "other_concern", "2026-01", None),  # asset_car watches enrolled only
    ("disaster_loss", J, True, False, "other_concern", "2025-10", None),  # before J's warning's window
    ("disaster_loss", K, True, False, "other_concern", "2025-11", None),  # first month of K's window
]
# month → (rule, id_number) firing that month
FIRINGS = {
    "2026-01": [("recipient_death", A), ("earner_death", A), ("income_above_line", A)],
    "2026-02": [("recipient_death", A), ("income_drop", D), ("income_drop", E), ("hotline_help", H),
                ("disaster_loss", J), ("disaster_loss", K)],
    "2026-03": [("recipient_death", A), ("medical_oop_large", F), ("village_watch", E)],
}


def _truth(tmp_path: Path, events: list[tuple] = EVENTS) -> Path:
    out = tmp_path / "province" / "truth"
    out.mkdir(parents=True)
    cols = list(zip(*events, strict=True))
    n = len(events)
    pq.write_table(pa.table({
        "event_id": [f"E{i:09d}" for i in range(1, n + 1)],
        "kind": pa.array(cols[0], pa.string()), "id_number": pa.array(cols[1], pa.string()),
        "household_id": pa.array([None if not reg else "H1" for reg in cols[2]], pa.string()),
        "registered": pa.array(cols[2], pa.bool_()), "enrolled": pa.array(cols[3], pa.bool_()),
        "tier": pa.array(cols[4], pa.string()), "month": pa.array(cols[5], pa.string()),
        "feed": pa.array(["x"] * n, pa.string()), "record_ids": pa.array([["r"]] * n, pa.list_(pa.string())),
        "related_feed": pa.nulls(n, pa.string()), "related_record_ids": pa.nulls(n, pa.list_(pa.string())),
        "main_earner": pa.array(cols[6], pa.bool_()), "detail": pa.nulls(n, pa.string())}),
        out / "events.parquet")
    return out


def _record(engine: Engine, month: str, pairs: list[tuple[str, str]], *, status: str = "finished") -> None:
    run = start_run(engine, month=month, engine_name="duckdb", catalogue_digest="d" * 64, actor="test")
    if pairs:
        candidates = pa.Table.from_pylist([
            {"rule": rule, "id_number": pid, "region_code": "370102001001", "level": "yellow",
             "side": SIDE[rule], "evidence": "[]"} for rule, pid in pairs])
        record_warnings(engine, run_id=run, month=month, candidates=candidates, suppression=SUPPRESSION)
    finish_run(engine, run, status=status)


@pytest.fixture
def store(engine: Engine) -> Engine:
    for month, pairs in FIRINGS.items():
        _record(engine, month, pairs)
    return engine


def _by_rule(result: dict) -> dict[str, tuple]:
    return {r["rule"]: (r["planted"], r["found"], r["recall"], r["warnings"], r["matched"], r["precision"])
            for r in result["rules"]}


def test_every_run_month(store: Engine, tmp_path: Path) -> None:
    result = score_store(store, _truth(tmp_path), CATALOGUE.rules)
    assert result["months"] == ["2026-01", "2026-02", "2026-03"]
    rules = _by_rule(result)
    # one warning that fired three months (a condition rule) matched by the one death
    assert rules["recipient_death"] == (1, 1, 1.0, 1, 1, 1.0)
    assert rules["earner_death"] == (1, 1, 1.0, 1, 1, 1.0)
    # D's drop (January) was warned in February: not found in its month, yet the warning has its event
    assert rules["income_drop"] == (2, 1, 0.5, 2, 2, 1.0)
    assert rules["medical_oop_large"] == (1, 1, 1.0, 1, 1, 1.0)
    assert rules["hotline_help"] == (0, 0, None, 1, 0, 0.0)  # a warning with no event
    # raised 2026-02 with a 3-month window: K's November event counts, J's October one does not
    assert SUPPRESSION["disaster_loss"] == 3
    assert rules["disaster_loss"] == (0, 0, None, 2, 1, 0.5)
    assert rules["asset_car"] == (0, 0, None, 0, 0, None)  # G's car: outside asset_car's population
    # no planted kind maps to these: counted, not scored; the province's own rule comes last
    assert rules["income_above_line"] == (None, None, None, 1, None, None)
    assert result["rules"][-1]["rule"] == "village_watch"
    assert rules["village_watch"] == (None, None, None, 1, None, None)
    assert [r["rule"] for r in result["rules"][:-1]] == [r.id for r in CATALOGUE]
    assert result["overall"] == {"planted": 5, "found": 4, "recall": 0.8, "warnings": 8, "matched": 6,
                                 "precision": 0.75, "unscored_warnings": 2}


def test_one_month(store: Engine, tmp_path: Path) -> None:
    result = score_store(store, _truth(tmp_path), CATALOGUE.rules, months=["2026-02"])
    rules = _by_rule(result)
    assert result["months"] == ["2026-02"]
    # A died in January: no planted death in February, but February's firing still has its event
    assert rules["recipient_death"] == (0, 0, None, 1, 1, 1.0)
    assert rules["earner_death"] == (0, 0, None, 0, 0, None)  # fired in January only
    assert rules["income_drop"] == (1, 1, 1.0, 2, 2, 1.0)
    assert rules["medical_oop_large"] == (0, 0, None, 0, 0, None)
    assert rules["income_above_line"] == (None, None, None, 0, None, None)
    assert "village_watch" not in rules  # fired in March only
    assert result["overall"] == {"planted": 1, "found": 1, "recall": 1.0, "warnings": 6, "matched": 4,
                                 "precision": 4 / 6, "unscored_warnings": 0}


def test_population_and_main_earner_decide_what_is_planted(engine: Engine, tmp_path: Path) -> None:
    # deaths of: an extremely-poor non-earner, a dibao_edge earner (the catalogue's `enrolled` covers
    # dibao_edge), a registered none-tier earner and someone outside the register
    events = [("death", A, True, True, "extremely_poor", "2026-01", False),
              ("death", B, True, False, "dibao_edge", "2026-01", True),
              ("death", D, True, False, "none", "2026-01", True),
              ("death", E, False, False, "none", "2026-01", None),
              # someone only the feeds know: watched by hotline_help (anyone), not new_unemployment
              ("hotline_help", F, False, False, "none", "2026-01", None),
              ("hotline_help", F, False, False, "none", "2025-12", None),  # a second event, one warning
              ("new_unemployment", F, False, False, "none", "2026-01", None)]
    _record(engine, "2026-01", [("recipient_death", A), ("recipient_death", B), ("earner_death", B),
                                ("earner_death", A), ("earner_death", E), ("hotline_help", F)])
    rules = _by_rule(score_store(engine, _truth(tmp_path, events), CATALOGUE.rules))
    assert rules["hotline_help"] == (1, 1, 1.0, 1, 1, 1.0)
    assert rules["new_unemployment"] == (0, 0, None, 0, 0, None)
    assert rules["recipient_death"] == (2, 2, 1.0, 2, 2, 1.0)
    # planted for B and D (registered earners); A was no earner and E is outside the register
    assert rules["earner_death"] == (2, 1, 0.5, 3, 1, 1 / 3)
    assert set(KIND_RULES["death"]) == {"recipient_death", "earner_death"}


def test_errors(store: Engine, tmp_path: Path) -> None:
    truth = _truth(tmp_path)
    with pytest.raises(ScoreInputError, match="not a folder"):
        score_store(store, tmp_path / "nowhere", CATALOGUE.rules)
    with pytest.raises(ScoreInputError, match=r"no events.parquet .*did you mean .*truth"):
        score_store(store, truth.parent, CATALOGUE.rules)
    with pytest.raises(ScoreInputError, match="YYYY-MM"):
        score_store(store, truth, CATALOGUE.rules, months=["2026-02", "2026-13"])
    with pytest.raises(ScoreInputError, match="no finished monitor run for 2026-04"):
        score_store(store, truth, CATALOGUE.rules, months=["2026-04"])
    _record(store, "2026-05", [], status="failed")
    with pytest.raises(ScoreInputError, match=r"2026-05 \(its runs are failed\)"):
        score_store(store, truth, CATALOGUE.rules, months=["2026-05"])
    # a failed run's month is not among the default months
    assert score_store(store, truth, CATALOGUE.rules)["months"] == ["2026-01", "2026-02", "2026-03"]


def test_no_run_at_all(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ScoreInputError, match="no finished monitor run in the store"):
        score_store(engine, _truth(tmp_path), CATALOGUE.rules)


def test_cli(settings_env: Path, store: Engine, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(score_cli, "console", Console(width=200))
    app = typer.Typer()
    app.command("score")(score_cli.score_command)
    app.command("other")(lambda: None)  # two commands, so `score` is a subcommand as when mounted
    truth = _truth(tmp_path)
    runner = CliRunner()

    res = runner.invoke(app, ["score", "--truth", str(truth), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["months"] == ["2026-01", "2026-02", "2026-03"]
    assert out["overall"]["recall"] == 0.8 and out["overall"]["precision"] == 0.75
    assert set(out["rules"][0]) == {"rule", "planted", "found", "recall", "warnings", "matched", "precision"}

    res = runner.invoke(app, ["score", "--truth", str(truth), "--month", "2026-02", "--month", "2026-01",
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["months"] == ["2026-01", "2026-02"]
    assert {r["rule"]: r["found"] for r in out["rules"]}["income_drop"] == 1  # E's Feb drop; D's not found

    res = runner.invoke(app, ["score", "--truth", str(truth)])
    assert res.exit_code == 0, res.output
    assert "召回率" in res.stdout and "recall" in res.stdout and "精确率" in res.stdout
    line = next(x for x in res.stdout.splitlines() if "income_drop" in x)
    assert "50.0%" in line and "100.0%" in line
    assert "合计 overall" in res.stdout and "80.0%" in res.stdout and "75.0%" in res.stdout
    assert "无预埋事件" in next(x for x in res.stdout.splitlines() if "income_above_line" in x)

    for args, message in ((["--truth", str(tmp_path / "nowhere")], "not a folder"),
                          (["--truth", str(truth.parent)], "no events.parquet"),
                          (["--truth", str(truth), "--month", "2026/02"], "YYYY-MM"),
                          (["--truth", str(truth), "--month", "2026-09"], "no finished monitor run")):
        res = runner.invoke(app, ["score", *args])
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output.replace("\n", " "), res.output
