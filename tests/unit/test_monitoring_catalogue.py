"""The monitoring rule catalogue: the packaged YAML, dated values, validation messages, the province
override and `safetynet monitor catalogue`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from safetynet.cli.main import app as safetynet_cli
from safetynet.config import get_settings
from safetynet.errors import ConfigurationError
from safetynet.monitoring import catalogue as cat

D = dt.date


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No real data dir or env override leaks into these tests."""
    monkeypatch.delenv(cat.ENV_VAR, raising=False)
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def packaged_raw() -> dict:
    return yaml.safe_load(cat.PACKAGED.read_text(encoding="utf-8"))


def write(tmp_path: Path, raw: dict, name: str = "province.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rule_of(raw: dict, rule_id: str) -> dict:
    return next(r for r in raw["rules"] if r["id"] == rule_id)


def problems_of(path: Path) -> list[cat.Problem]:
    with pytest.raises(cat.CatalogueError) as info:
        cat.load_catalogue(path)
    return info.value.problems


# --- the packaged catalogue ----------------------------------------------------------------------

def test_packaged_catalogue_has_the_fixed_rules_and_tier_mismatch():
    c = cat.load_catalogue()
    ids = [r.id for r in c]
    assert c.path == cat.PACKAGED
    assert set(cat.FIXED_RULE_IDS) <= set(ids)
    assert len(cat.FIXED_RULE_IDS) == 16
    assert "tier_mismatch" in ids and len(ids) >= 17
    assert ids == [r["id"] for r in packaged_raw()["rules"]]  # iteration in file order
    assert c.rule("tier_mismatch").side == "exit"


def test_every_packaged_value_names_its_source_and_is_in_force_in_2025():
    for rule in cat.load_catalogue():
        for param in rule.parameters:
            for v in param.values:
                assert len(v.source) > 10, (rule.id, param.name)
            assert rule.value(param.name, D(2025, 1, 1)) is not None


def test_packaged_values_have_their_types():
    c = cat.load_catalogue()
    on = D(2025, 6, 1)
    med = c.rule("medical_oop_large")
    assert med.value("yellow_ratio", on) == Decimal("0.3")
    assert isinstance(med.value("yellow_ratio", on), Decimal)
    assert c.rule("asset_business").value("capital_limit", on) == 10_000_000  # 100000.00 yuan in fen
    assert c.rule("income_drop").value("mean_months", on) == 6
    assert c.rule("asset_car").value("vehicle_types_counted", on) == ("car", "truck")
    assert "motorcycle" in c.rule("asset_car").value("vehicle_types_exempt", on)
    assert c.rule("education_cost").value("stages_counted", on) == ("senior", "vocational", "college")


def test_populations_expand_to_tiers():
    c = cat.load_catalogue()
    assert c.rule("recipient_death").tiers == {"dibao", "extremely_poor", "dibao_edge", "rigid_expenditure"}
    assert "other_concern" in c.rule("income_drop").tiers
    assert "unregistered" not in c.rule("income_drop").tiers
    assert "unregistered" in c.rule("hotline_help").tiers
    assert c.rule("medical_oop_large").pushed_to.startswith("医疗保障局")


def test_graded_level_is_the_most_severe_threshold_reached():
    rule = cat.load_catalogue().rule("medical_oop_large")
    on = D(2025, 6, 1)
    assert rule.level_for(Decimal("0.29"), on) is None
    assert rule.level_for(Decimal("0.3"), on) == "yellow"
    assert rule.level_for(Decimal("0.99"), on) == "orange"
    assert rule.level_for(Decimal("1.0"), on) == "red"
    assert cat.load_catalogue().rule("asset_car").level_for(1, on) == "orange"


def test_digest_ignores_layout_but_not_values(tmp_path):
    c = cat.load_catalogue()
    raw = packaged_raw()  # comments, anchors and x- keys dropped by the round trip
    raw.pop("x-sources")
    assert cat.load_catalogue(write(tmp_path, raw)).digest() == c.digest()
    rule_of(raw, "income_drop")["parameters"]["drop_share"]["values"][0]["value"] = 0.35
    assert cat.load_catalogue(write(tmp_path, raw, "changed.yaml")).digest() != c.digest()
    assert len(c.digest()) == 64


# --- dated values -------------------------------------------------------------------------------

def test_value_in_force_switches_on_the_boundary_day(tmp_path):
    raw = packaged_raw()
    rule_of(raw, "income_drop")["parameters"]["drop_share"]["values"] = [
        {"from": D(2024, 1, 1), "value": 0.3, "source": "doc A"},
        {"from": D(2025, 7, 1), "value": 0.25, "source": "doc B"},
    ]
    rule = cat.load_catalogue(write(tmp_path, raw)).rule("income_drop")
    assert rule.value("drop_share", D(2025, 6, 30)) == Decimal("0.3")
    assert rule.value("drop_share", D(2025, 7, 1)) == Decimal("0.25")
    assert rule.parameter("drop_share").on(D(2025, 7, 1)).source == "doc B"
    with pytest.raises(cat.ParameterError, match=r"rule income_drop, parameter drop_share: no value in force "
                                                 r"on 2023-12-31"):
        rule.value("drop_share", D(2023, 12, 31))
    with pytest.raises(cat.ParameterError, match="has no parameter 'nope'"):
        rule.value("nope", D(2025, 1, 1))


def test_a_value_with_until_ends(tmp_path):
    raw = packaged_raw()
    rule_of(raw, "hotline_help")["parameters"]["categories"]["values"] = [
        {"from": D(2024, 1, 1), "until": D(2024, 12, 31), "value": ["help_request"], "source": "trial"},
    ]
    rule = cat.load_catalogue(write(tmp_path, raw)).rule("hotline_help")
    assert rule.value("categories", D(2024, 12, 31)) == ("help_request",)
    assert rule.values_on(D(2025, 1, 1)) == {"categories": None}
    with pytest.raises(cat.ParameterError, match="2024-01-01–2024-12-31"):
        rule.value("categories", D(2025, 1, 1))


@pytest.mark.parametrize(("text", "fen"), [("100000.00", 10_000_000), ("0.01", 1), ("1234.5", 123_450),
                                           ("941", 94_100), ("99999999.99", 9_999_999_999)])
def test_money_becomes_exact_fen(tmp_path, text, fen):
    raw = packaged_raw()
    rule_of(raw, "asset_business")["parameters"]["capital_limit"]["values"][0]["value"] = text
    rule = cat.load_catalogue(write(tmp_path, raw)).rule("asset_business")
    value = rule.value("capital_limit", D(2025, 1, 1))
    assert value == fen and type(value) is int


# --- validation ---------------------------------------------------------------------------------

def _param(raw: dict, rule_id: str, name: str) -> dict:
    return rule_of(raw, rule_id)["parameters"][name]


def _unknown_key(raw):
    rule_of(raw, "income_drop")["threshold"] = 0.3


def _duplicate_id(raw):
    raw["rules"].append(dict(rule_of(raw, "hotline_help")))


def _fixed_missing(raw):
    raw["rules"] = [r for r in raw["rules"] if r["id"] != "earner_death"]


def _unknown_level(raw):
    rule_of(raw, "asset_car")["level"] = "purple"


def _unknown_need(raw):
    rule_of(raw, "new_disability")["need"] = "food"


def _unknown_population(raw):
    rule_of(raw, "income_drop")["population"] = ["dibao", "students"]


def _unknown_side(raw):
    rule_of(raw, "income_drop")["side"] = "inside"


def _undefined_threshold(raw):
    rule_of(raw, "medical_oop_large")["levels"][2]["when"] = "crimson_ratio"


def _unsorted_dates(raw):
    _param(raw, "income_drop", "drop_share")["values"] = [
        {"from": D(2025, 1, 1), "value": 0.3, "source": "doc"},
        {"from": D(2024, 1, 1), "value": 0.2, "source": "doc"}]


def _overlapping_dates(raw):
    _param(raw, "income_drop", "drop_share")["values"] = [
        {"from": D(2024, 1, 1), "until": D(2025, 3, 1), "value": 0.3, "source": "doc"},
        {"from": D(2025, 1, 1), "value": 0.2, "source": "doc"}]


def _no_source(raw):
    del _param(raw, "income_drop", "drop_share")["values"][0]["source"]


def _negative_suppression(raw):
    rule_of(raw, "income_drop")["suppression_months"] = -1


def _ratio_not_a_number(raw):
    _param(raw, "income_drop", "drop_share")["values"][0]["value"] = "thirty percent"


def _months_not_a_number(raw):
    _param(raw, "income_drop", "mean_months")["values"][0]["value"] = "six"


def _money_as_float(raw):
    _param(raw, "asset_business", "capital_limit")["values"][0]["value"] = 100000.0


def _money_three_decimals(raw):
    _param(raw, "asset_business", "capital_limit")["values"][0]["value"] = "100000.005"


def _thresholds_descending(raw):
    _param(raw, "medical_oop_large", "red_ratio")["values"][0]["value"] = 0.4


def _exit_rule_not_integrity(raw):
    rule_of(raw, "asset_car")["need"] = "housing"


def _unknown_evidence(raw):
    rule_of(raw, "asset_car")["evidence"] = ["vehicles"]


CASES: list[tuple[Callable[[dict], None], str | None, str | None, str]] = [
    (_unknown_key, "income_drop", "threshold", "unknown key; allowed: id, name_zh"),
    (_duplicate_id, "hotline_help", "id", "duplicate rule id"),
    (_fixed_missing, "earner_death", "id", "a fixed rule (docs/contracts/warnings.md) is missing"),
    (_unknown_level, "asset_car", "level", "unknown level 'purple'; use one of blue, yellow, orange, red"),
    (_unknown_need, "new_disability", "need", "unknown need 'food'; use one of medical"),
    (_unknown_population, "income_drop", "population", "unknown population 'students'"),
    (_unknown_side, "income_drop", "side", "unknown side 'inside'; use one of entry, exit"),
    (_undefined_threshold, "medical_oop_large", "levels.when",
     "'crimson_ratio' is not a parameter of this rule"),
    (_unsorted_dates, "income_drop", "parameters.drop_share.values", "dates must ascend"),
    (_overlapping_dates, "income_drop", "parameters.drop_share.values", "overlapping dates"),
    (_no_source, "income_drop", "parameters.drop_share.values.source", "missing: name the document"),
    (_negative_suppression, "income_drop", "suppression_months", "not a whole number of months ≥ 0"),
    (_ratio_not_a_number, "income_drop", "parameters.drop_share.values.value",
     "'thirty percent' is not valid for unit ratio: give a number ≥ 0"),
    (_months_not_a_number, "income_drop", "parameters.mean_months.values.value",
     "'six' is not valid for unit months: give a whole number"),
    (_money_as_float, "asset_business", "parameters.capital_limit.values.value", "quoted string"),
    (_money_three_decimals, "asset_business", "parameters.capital_limit.values.value", "at most 2 decimals"),
    (_thresholds_descending, "medical_oop_large", "levels", "threshold red_ratio (0.4) must be above "
                                                            "orange_ratio (0.5)"),
    (_exit_rule_not_integrity, "asset_car", "need", "an exit rule"),
    (_unknown_evidence, "asset_car", "evidence", "unknown evidence 'vehicles'"),
]


@pytest.mark.parametrize(("mutate", "rule", "field", "reason"), CASES, ids=[c[0].__name__[1:] for c in CASES])
def test_validation_names_file_rule_and_field(tmp_path, mutate, rule, field, reason):
    raw = packaged_raw()
    mutate(raw)
    path = write(tmp_path, raw)
    problems = problems_of(path)
    match = [p for p in problems if p.rule == rule and p.field == field]
    assert match, [str(p) for p in problems]
    assert reason in match[0].reason
    text = str(match[0])
    assert str(path) in text and f"rule {rule}" in text and f"field {field}" in text


def test_all_problems_are_reported_at_once_with_lines(tmp_path):
    raw = packaged_raw()
    _unknown_level(raw)
    _negative_suppression(raw)
    problems = problems_of(write(tmp_path, raw))
    assert {p.rule for p in problems} == {"asset_car", "income_drop"}
    assert all(p.line and p.line > 1 for p in problems)


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path):
    text = cat.PACKAGED.read_text(encoding="utf-8").replace(
        "    suppression_months: 6\n", "    suppression_months: 6\n    suppression_months: 2\n", 1)
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.field == "suppression_months" and "given twice" in problem.reason
    assert text.splitlines()[problem.line - 1].strip() == "suppression_months: 2"


def test_wrong_shapes_are_problems_not_crashes(tmp_path):
    raw = packaged_raw()
    rule_of(raw, "income_drop")["need"] = ["basic_living"]
    rule_of(raw, "asset_car")["population"] = [["enrolled"]]
    rule_of(raw, "medical_oop_large")["levels"][0]["when"] = ["yellow_ratio"]
    problems = problems_of(write(tmp_path, raw))
    assert {(p.rule, p.field) for p in problems} == {("income_drop", "need"), ("asset_car", "population"),
                                                     ("medical_oop_large", "levels.when")}


def test_not_yaml_and_not_a_mapping(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    assert "not valid YAML" in problems_of(bad)[0].reason
    bad.write_text("- just a list\n", encoding="utf-8")
    assert "must be a mapping" in problems_of(bad)[0].reason


def test_a_province_may_add_a_rule(tmp_path):
    raw = packaged_raw()
    raw["rules"].append({
        "id": "housing_unsafe", "name_zh": "住房安全隐患", "name_en": "Unsafe housing",
        "population": ["enrolled"],
        "need": "housing", "side": "entry", "level": "blue", "indicator": "unsafe_housing_reported",
        "evidence": ["hotline"], "suppression_months": 0, "parameters": {}})
    c = cat.load_catalogue(write(tmp_path, raw))
    assert [r.id for r in c][-1] == "housing_unsafe"
    assert c.rule("housing_unsafe").suppression_months == 0


# --- which file is used -------------------------------------------------------------------------

def _province_file(path: Path) -> Path:
    raw = packaged_raw()
    rule_of(raw, "income_drop")["suppression_months"] = 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_province_file_in_data_dir_is_used(tmp_path):
    assert cat.load_catalogue().rule("income_drop").suppression_months == 6
    local = _province_file(tmp_path / "data" / "monitoring" / "catalogue.yaml")
    c = cat.load_catalogue()
    assert c.path == local and c.rule("income_drop").suppression_months == 2


def test_env_setting_names_the_catalogue(tmp_path, monkeypatch):
    named = _province_file(tmp_path / "elsewhere" / "shandong.yaml")
    monkeypatch.setenv(cat.ENV_VAR, str(named))
    assert cat.load_catalogue().path == named
    monkeypatch.setenv(cat.ENV_VAR, str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigurationError, match="MONITORING_CATALOGUE=.*missing.yaml names no file"):
        cat.load_catalogue()


# --- the command --------------------------------------------------------------------------------

root = safetynet_cli  # the installed command, as a user calls it
runner = CliRunner()


def test_cli_json_round_trip():
    result = runner.invoke(root, ["monitor", "catalogue", "--json", "--on", "2025-06-30"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    c = cat.load_catalogue()
    assert out["digest"] == c.digest() and out["on"] == "2025-06-30"
    assert [r["id"] for r in out["rules"]] == [r.id for r in c]
    for item in out["rules"]:
        rule = c.rule(item["id"])
        assert item["need"] == rule.need and item["suppression_months"] == rule.suppression_months
        for name, shown in item["parameters"].items():
            assert shown["value"] == cat.json_value(rule.value(name, D(2025, 6, 30)))
    business = next(r for r in out["rules"] if r["id"] == "asset_business")
    assert business["parameters"]["capital_limit"]["value"] == 10_000_000
    medical = next(r for r in out["rules"] if r["id"] == "medical_oop_large")
    assert Decimal(medical["parameters"]["red_ratio"]["value"]) == Decimal("1.0")
    assert [lv["level"] for lv in medical["levels"]] == ["yellow", "orange", "red"]


def test_cli_table_has_chinese_headers():
    result = runner.invoke(root, ["monitor", "catalogue", "--on", "2025-06-30"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    for shown in ("中文名", "抑制期", "医疗自付费用过高", "100000.00元", "黄≥0.3"):
        assert shown in result.stdout


def test_cli_rejects_a_bad_file_and_a_bad_date(tmp_path):
    raw = packaged_raw()
    _unknown_level(raw)
    path = write(tmp_path, raw)
    result = runner.invoke(root, ["monitor", "catalogue", "--json", "--file", str(path)])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["status"] == "rejected" and out["errors"][0]["rule"] == "asset_car"
    assert runner.invoke(root, ["monitor", "catalogue", "--on", "30/06/2025"]).exit_code == 2


def test_cli_export_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "out" / "catalogue.yaml"
    assert runner.invoke(root, ["monitor", "catalogue", "--export", str(target)]).exit_code == 0
    assert target.read_bytes() == cat.PACKAGED.read_bytes()
    target.write_text("edited", encoding="utf-8")
    refused = runner.invoke(root, ["monitor", "catalogue", "--export", str(target)])
    assert refused.exit_code == 1 and target.read_text(encoding="utf-8") == "edited"
    assert runner.invoke(root, ["monitor", "catalogue", "--export", str(target), "--force"]).exit_code == 0
    assert target.read_bytes() == cat.PACKAGED.read_bytes()
