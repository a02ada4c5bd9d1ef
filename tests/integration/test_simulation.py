"""Policy simulation: a raised dibao standard moves exactly the households whose per-capita
income lies between the old and the new standard (and pass the other dibao tests)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from safetynet.analytics.service import household_facts
from safetynet.feeds import service as feeds_service
from safetynet.registry import service as registry_service
from safetynet.rules.system import get_system
from safetynet.simulation import service
from safetynet.simulation.model import SimulationInputError, check_region, parse_change
from safetynet.standards import service as standards_service

MONTH = "2025-02"
AS_OF = dt.date(2025, 2, 28)


@pytest.fixture
def province(synthetic_province: Path) -> Path:
    return synthetic_province


def _load(engine: Engine, province: Path, lake: Path) -> None:
    registry_service.import_register(engine, directory=province / "registry", as_of=AS_OF, partial=True)
    standards_service.import_standards(engine, path=province / "standards" / "standards.csv")
    feeds_service.ingest(engine, paths=[province / "feeds"], lake_dir=lake, actor="test")


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path, province: Path) -> Path:
    lake = tmp_path / "lake"
    _load(engine, province, lake)
    return lake


def test_parse_change() -> None:
    assert parse_change("+7%").apply(100000) == 107000
    assert parse_change("-3%").apply(94100) == 91277
    assert parse_change("+50").apply(94100) == 99100
    assert parse_change("-20.5").apply(94100) == 92050
    assert parse_change("=1000").apply(94100) == 100000
    assert parse_change("+0.5%").apply(94100) == 94571  # 94,570.5 half up
    for bad in ("7%", "+x", "=5%", "-100%", "", "=0"):
        with pytest.raises(SimulationInputError):
            parse_change(bad)
    assert check_region("370400000000") == "3704" and check_region(None) is None
    with pytest.raises(SimulationInputError):
        check_region("37a")


def _known_movers(engine: Engine, lake: Path, raise_pct: int) -> tuple[set[int], set[int]]:
    """Independently of the simulation: (households passing every dibao test but income under the
    county standard, those whose per-capita counted income is between the old standard and the
    raised one and that pass the asset tests under the raised standard)."""
    h, _ = household_facts(engine, month=MONTH, lake_dir=lake)
    p = get_system().get_parameters_at_instant(AS_OF.isoformat()).assets
    below_new: set[int] = set()
    between: set[int] = set()
    for row in h.to_pylist():
        n = row["members"]
        if n == 0:
            continue
        std = standards_service.lookup(engine, region=row["region_code"][:6],
                                       registration=row["registration"], on=AS_OF)["dibao"]
        new = (std * (100 + raise_pct) + 50) // 100  # to the fen, half up
        pc_income = row["counted_income_avg_fen"] / n
        assets_new = (row["deposits_fen"] <= float(p.deposits_months_of_standard) * new * n
                      and row["homes"] <= int(p.max_homes)
                      and row["car_count"] <= int(p.cars_allowed)
                      and row["business_capital_fen"] <= float(p.business_capital_limit) * 100)
        if std <= pc_income < new and assets_new:
            between.add(row["household_id"])
        if pc_income < new and assets_new:
            below_new.add(row["household_id"])
    return below_new, between


def test_raise_moves_exactly_the_known_households(engine: Engine, loaded: Path, tmp_path: Path,
                                                  client_as) -> None:  # noqa: ANN001
    below_new, between = _known_movers(engine, loaded, 10)
    r = service.simulate(engine, month=MONTH, dibao_change="+10%", region=None, lake_dir=loaded)
    assert len(between) >= 5, between  # the synthetic province has households near the line
    base_dibao = r.baseline_tier == "dibao"
    ref_dibao = r.reform_tier == "dibao"
    newly = set(r.household_ids[ref_dibao & ~base_dibao].tolist())
    assert newly == between
    assert not (base_dibao & ~ref_dibao).any()  # nobody leaves dibao when the standard rises
    # every reform dibao household passes the dibao tests against the raised standard
    assert set(r.household_ids[ref_dibao].tolist()) <= below_new
    assert r.total.newly["dibao"] == len(between) and r.total.left["dibao"] == 0
    assert r.total.reform["dibao"] == r.total.baseline["dibao"] + len(between)
    # the raised standard is the stored county standard + 10 %
    std = standards_service.lookup(engine, region=r.county_codes[0], registration="urban", on=AS_OF)
    assert std["dibao"] > 0
    assert np.all(r.reform_dibao_standard_fen == (r.baseline_dibao_standard_fen * 110 + 50) // 100)

    change = r.reform_benefit_fen - r.baseline_benefit_fen
    assert r.baseline_benefit_fen.dtype == np.int64
    assert r.total.monthly_change_fen == int(change.sum()) > 0
    assert r.total.annual_change_fen == 12 * r.total.monthly_change_fen
    assert sum(c.monthly_change_fen for c in r.counties) == r.total.monthly_change_fen
    assert sum(c.households for c in r.counties) == r.total.households == len(r.household_ids)
    assert sum(c.newly["dibao"] for c in r.counties) == len(between)
    assert all(len(c.code) == 6 and c.name for c in r.counties)
    assert all(isinstance(c.monthly_reform_fen, int) for c in r.counties)

    # a cut moves households out of dibao, and costs less
    cut = service.simulate(engine, month=MONTH, dibao_change="-10%", region=None, lake_dir=loaded)
    assert cut.total.left["dibao"] > 0 and cut.total.newly["dibao"] == 0
    assert cut.total.monthly_change_fen < 0
    assert cut.total.baseline == r.total.baseline

    # one city only
    city = r.counties[0].code[:4]
    part = service.simulate(engine, month=MONTH, dibao_change="+10%", region=city, lake_dir=loaded)
    assert part.counties and all(c.code.startswith(city) for c in part.counties)
    assert part.total.households == sum(c.households for c in r.counties if c.code.startswith(city))
    assert part.total.newly["dibao"] == sum(c.newly["dibao"] for c in r.counties if c.code.startswith(city))

    # Excel
    from python_calamine import CalamineWorkbook

    path = service.to_excel(r, tmp_path / "sim.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["总表", "分县"]
    rows = book.get_sheet_by_name("分县").to_python()
    assert rows[0][:3] == ["区划代码", "县（市、区）", "评估户数"] and "新增低保户数" in rows[0]
    assert len(rows) == 1 + len(r.counties) + 1 and rows[-1][1] == "合计"
    col = rows[0].index("新增低保户数")
    assert int(rows[-1][col]) == len(between)
    totals = {row[0]: row[1] for row in book.get_sheet_by_name("总表").to_python()[1:]}
    assert round(float(totals["月支出变化（元）"]) * 100) == r.total.monthly_change_fen

    # API round trip, as a province administrator (the whole province); a county
    # administrator cannot simulate outside their county
    client_as.app.state.lake_dir = loaded
    client = client_as("province_admin", "37")
    other = client_as("county_admin", "370102")
    assert other.post("/api/v1/simulate", json={"month": MONTH, "dibao_standard": "+10%",
                                                "region": "3704"}).status_code == 404
    got = client.post("/api/v1/simulate", json={"month": MONTH, "dibao_standard": "+10%"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["total"]["newly"]["dibao"] == len(between)
    assert body["total"]["monthly_change_fen"] == r.total.monthly_change_fen
    assert len(body["counties"]) == len(r.counties)
    bad = client.post("/api/v1/simulate", json={"month": MONTH, "dibao_standard": "seven"})
    assert bad.status_code == 422 and bad.json()["field"] == "dibao_standard"
    bad = client.post("/api/v1/simulate", json={"month": "2025-13", "dibao_standard": "+7%"})
    assert bad.status_code == 422 and bad.json()["field"] == "month"


def test_cli(settings_env: Path, engine: Engine, province: Path, tmp_path: Path) -> None:
    import typer

    from safetynet.simulation.cli import simulate_cli

    _load(engine, province, settings_env / "lake")
    app = typer.Typer()
    app.command()(simulate_cli)
    runner = CliRunner()
    r = runner.invoke(app, ["--month", MONTH, "--dibao-standard", "+10%", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total"]["newly"]["dibao"] > 0 and out["total"]["monthly_change_fen"] > 0
    xlsx = tmp_path / "out" / "sim.xlsx"
    r = runner.invoke(app, ["--month", MONTH, "--dibao-standard", "+50", "--region", "37",
                            "--excel", str(xlsx)])
    assert r.exit_code == 0, r.output
    assert "合计" in r.output and xlsx.exists()
    for args in (["--month", "2025-13", "--dibao-standard", "+7%"],
                 ["--month", MONTH, "--dibao-standard", "7"],
                 ["--month", MONTH, "--dibao-standard", "+7%", "--region", "37x"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
    r = runner.invoke(app, ["--month", MONTH, "--dibao-standard", "abc"])
    assert "dibao standard change" in r.output


def test_empty_registry(engine: Engine, tmp_path: Path) -> None:
    r = service.simulate(engine, month=MONTH, dibao_change="+7%", region=None, lake_dir=tmp_path / "lake")
    assert r.total.households == 0 and r.counties == [] and r.total.monthly_change_fen == 0



def test_linked_standards_move_with_dibao_unless_kept(engine: Engine, loaded: Path) -> None:
    """Raising dibao moves the extremely-poor basic standard by the dynamic-adjustment link
    (factor × new dibao, whole yuan half up); --keep-linked leaves it as stored."""
    from safetynet.standards.model import derive_linked

    linked = service.simulate(engine, month=MONTH, dibao_change="+10%", region=None, lake_dir=loaded)
    kept = service.simulate(engine, month=MONTH, dibao_change="+10%", region=None, lake_dir=loaded,
                            keep_linked=True)
    assert linked.as_dict()["linked_standards"] == "derived" and kept.as_dict()["linked_standards"] == "kept"
    # the baseline is the stored basic standard in both
    for r in (linked, kept):
        for code, reg_std in zip(r.county_codes[:50], r.baseline_basic_standard_fen[:50], strict=True):
            stored = {standards_service.lookup(engine, region=code, registration=reg, on=AS_OF)
                      .get("extremely_poor_basic") for reg in ("urban", "rural")}
            assert int(reg_std) in stored
    assert np.array_equal(kept.reform_basic_standard_fen, kept.baseline_basic_standard_fen)
    expected = np.array([derive_linked(int(d), AS_OF)["extremely_poor_basic"]
                         for d in linked.reform_dibao_standard_fen])
    assert np.array_equal(linked.reform_basic_standard_fen, expected)
    assert (linked.reform_basic_standard_fen != linked.baseline_basic_standard_fen).any()
    # dibao and everything decided by it is the same; only the extremely-poor amounts differ
    assert np.array_equal(linked.reform_dibao_standard_fen, kept.reform_dibao_standard_fen)
    assert np.array_equal(linked.baseline_benefit_fen, kept.baseline_benefit_fen)
    # a change that does not move dibao moves nothing
    same = service.simulate(engine, month=MONTH, dibao_change="+0%", region=None, lake_dir=loaded)
    assert np.array_equal(same.reform_basic_standard_fen, same.baseline_basic_standard_fen)
    assert same.total.monthly_change_fen == 0


def test_household_standards_with_dibao() -> None:
    """The shared adapter's dynamic adjustment on hand values."""
    from safetynet.standards.model import HouseholdStandards

    on = dt.date(2025, 7, 31)
    n = 3
    base = HouseholdStandards(on=on, registrations=np.array(["urban", "rural", "urban"]),
                              dibao_fen=np.array([94100, 82400, 100000]),
                              extremely_poor_basic_fen=np.array([125500, 107200, 135300]),
                              care_fen={k: np.full(n, 10000) for k in ("care_self_care", "care_partial",
                                                                       "care_full")},
                              dibao_stored=np.ones(n, bool), basic_stored=np.ones(n, bool),
                              care_stored=np.zeros(n, bool))
    new = base.with_dibao(np.array([103510, 90640, 100000]))
    # 1.3 × 1,035.10 = 1,345.63 → 1,346; 1.3 × 906.40 = 1,178.32 → 1,178; the third did not move
    assert new.extremely_poor_basic_fen.tolist() == [134600, 117800, 135300]
    assert new.columns()["extremely_poor_basic_standard"].tolist() == [1346.0, 1178.0, 1353.0]
    assert new.columns()["dibao_standard"].tolist() == [1035.10, 906.40, 1000.0]
    kept = base.with_dibao(np.array([103510, 90640, 100000]), keep_linked=True)
    assert kept.extremely_poor_basic_fen.tolist() == [125500, 107200, 135300]
