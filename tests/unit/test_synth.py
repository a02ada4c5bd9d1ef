"""The synthetic province generator: contracts, calibration, planted events, reproducibility."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from safetynet import cells, identity
from safetynet.regions.model import Level, demo_tree
from safetynet.registry.model import HOUSEHOLD_COLUMNS, PERSON_COLUMNS
from safetynet.registry.validate import validate_register
from safetynet.synth import model as m
from safetynet.synth.service import SynthParameterError, generate
from safetynet.tabular import Column, read_table

PERSONS, MONTHS, SEED, START = 4000, 3, 7, "2025-08"  # August–October: September entries
PART_ROWS = 600  # small, so social_insurance is split into _01, _02… parts
ENUMS = {
    ("population", "sex"): {"M", "F"},
    ("population", "event"): {"birth", "death", "move_in", "move_out", "marriage", "divorce",
                              "update"},
    ("social_insurance", "kind"): {"wage", "pension", "unemployment_benefit"},
    ("medical", "kind"): {"inpatient", "outpatient", "chronic", "critical"},
    ("disability", "category"): set(m.DISABILITY_CATEGORIES),
    ("disability", "grade"): {"1", "2", "3", "4"},
    ("disability", "status"): {"valid", "revoked"},
    ("education", "stage"): {"preschool", "primary", "junior", "senior", "vocational",
                             "college"},
    ("vehicle", "vehicle_type"): {"car", "truck", "motorcycle", "disability_vehicle", "farm"},
    ("property", "use"): {"residential", "commercial", "other"},
    ("business", "role"): {"legal_rep", "shareholder", "owner"},
    ("business", "status"): {"active", "cancelled"},
    ("hotline", "category"): {"help_request", "complaint", "report"},
    ("anti_relapse", "type"): {"unstable", "edge", "sudden"},
}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("synth_a")
    generate(persons=PERSONS, months=MONTHS, seed=SEED, out=d, start_month=START,
             part_rows=PART_ROWS)
    return d


def _columns(spec: m.FeedSpec) -> list[Column]:
    return [Column(name, label, required=name in ("record_id", "id_number", "name"))
            for name, label, _ in spec.all_columns]


def _files(out: Path, feed: str, label: str) -> list[Path]:
    stem = f"{feed}_{label.replace('-', '')}"
    return sorted(p for p in (out / "feeds").iterdir()
                  if p.stem == stem or p.stem.startswith(stem + "_"))


def _feed(out: Path, feed: str, label: str) -> pa.Table:
    """One month of one feed as strings with canonical names (the platform's own reader)."""
    spec = m.FEED_BY_NAME[feed]
    tables = []
    for path in _files(out, feed, label):
        t = read_table(path, _columns(spec)).table
        tables.append(t.append_column("file", pa.array([path.name] * t.num_rows)))
    return pa.concat_tables(tables)


@pytest.fixture(scope="module")
def feeds(out) -> dict[tuple[str, str], pa.Table]:
    return {(f.name, label): _feed(out, f.name, label)
            for f in m.FEEDS for label in m.month_labels(START, MONTHS)}


@pytest.fixture(scope="module")
def truth(out) -> dict[str, pa.Table]:
    return {name: pq.read_table(out / "truth" / f"{name}.parquet")
            for name in ("events", "bad_ids", "persons")}


def _read_bytes_or_table(path: Path):
    return pq.read_table(path) if path.suffix == ".parquet" else path.read_bytes()


def test_same_seed_same_files_other_seed_different(out, tmp_path):
    again = tmp_path / "again"
    generate(persons=PERSONS, months=MONTHS, seed=SEED, out=again, start_month=START,
             part_rows=PART_ROWS)
    names = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in names:
        a, b = _read_bytes_or_table(out / rel), _read_bytes_or_table(again / rel)
        assert (a.equals(b) if isinstance(a, pa.Table) else a == b), rel
    other = tmp_path / "other"
    generate(persons=PERSONS, months=MONTHS, seed=SEED + 1, out=other, start_month=START,
             part_rows=PART_ROWS)
    assert (other / "registry/persons.csv").read_bytes() != (out / "registry/persons.csv").read_bytes()
    assert not pq.read_table(other / "truth/events.parquet").equals(
        pq.read_table(out / "truth/events.parquet"))


def test_every_feed_every_month_with_exactly_the_spec_columns(out):
    labels = m.month_labels(START, MONTHS)
    formats = Counter()
    for spec in m.FEEDS:
        english = [c for c, _, _ in spec.all_columns]
        chinese = [lb for _, lb, _ in spec.all_columns]
        for label in labels:
            files = _files(out, spec.name, label)
            assert files, f"{spec.name} {label} missing"
            for path in files:
                header = _header(path)
                assert header in (english, chinese), (path.name, header)
                formats[(path.suffix, "zh" if header == chinese else "en")] += 1
    # mixed: UTF-8 CSV mostly, GBK with Chinese headers, an xlsx, Parquet parts
    assert {(".csv", "en"), (".csv", "zh"), (".xlsx", "zh"), (".parquet", "en")} <= set(formats)
    assert any(p.name.endswith("_02.parquet") for p in (out / "feeds").iterdir())
    gbk = [p for p in (out / "feeds").glob("*.csv") if _encoding(p) == "gb18030"]
    assert {p.name.split("_2")[0] for p in gbk} >= {"population", "disability"}


def _encoding(path: Path) -> str:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        data.decode("gb18030")
        return "gb18030"


def _header(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return pq.read_schema(path).names
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook
        return [str(c) for c in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
                .to_python()[0]]
    first = path.read_bytes().split(b"\n", 1)[0]
    return first.decode(_encoding(path)).lstrip("\ufeff").split(",")


def test_values_follow_the_contract(feeds):
    for (feed, label), t in feeds.items():
        spec = m.FEED_BY_NAME[feed]
        for name, _, kind in spec.all_columns:
            col = t[name].combine_chunks()
            if kind == "date":
                assert not cells.parse_dates(col).invalid.any(), (feed, label, name)
            elif kind == "money":
                assert not cells.parse_money_fen(col).invalid.any(), (feed, label, name)
            elif kind == "month":
                assert set(col.to_pylist()) == {label}, (feed, name)
            if (feed, name) in ENUMS:
                assert set(col.drop_null().to_pylist()) <= ENUMS[(feed, name)], (feed, name)
        region = t["region"].combine_chunks()
        assert pc.all(pc.equal(pc.utf8_length(region), 12)).as_py(), feed
        if feed in ("medical", "hotline"):
            continue
        assert t["id_number"].null_count == 0, feed


def test_record_ids_unique_and_snapshot_ids_stable(feeds):
    for spec in m.FEEDS:
        seen: dict[str, str] = {}
        for label in m.month_labels(START, MONTHS):
            t = feeds[(spec.name, label)]
            ids = t["record_id"].to_pylist()
            assert len(ids) == len(set(ids)), (spec.name, label)
            persons = t["id_number"].to_pylist()
            for rid, pid in zip(ids, persons, strict=True):
                if spec.delivery == "snapshot":  # the same record next month: same person
                    assert seen.setdefault(rid, pid) == pid, (spec.name, rid)
                else:  # events and monthly rows are new rows every month
                    assert rid not in seen, (spec.name, rid)
                    seen[rid] = pid


def test_id_numbers_valid_except_the_recorded_bad_ones(feeds, truth):
    bad = truth["bad_ids"].to_pylist()
    bad_keys = {(b["file"], b["record_id"]): b for b in bad}
    damaged_rows, checked_rows = 0, 0
    for (feed, _), t in feeds.items():
        numbers = pc.fill_null(t["id_number"].combine_chunks(), "").to_numpy(
            zero_copy_only=False).astype("S18")
        ok = identity.valid_check_digit_mask(numbers)
        files, rids = t["file"].to_pylist(), t["record_id"].to_pylist()
        given = t["id_number"].to_pylist()
        for i in np.flatnonzero(~ok):
            b = bad_keys.get((files[i], rids[i]))
            assert b is not None, (feed, rids[i], given[i])
            assert b["id_number"] == given[i] and b["kind"] != "wrong_valid"
        for i, (f, r) in enumerate(zip(files, rids, strict=True)):
            if (f, r) in bad_keys:
                damaged_rows += 1
                b = bad_keys[(f, r)]
                assert given[i] == b["id_number"] != b["true_id_number"]
                assert bool(ok[i]) == (b["kind"] == "wrong_valid")
        if feed in m.BAD_ID_FEEDS:
            checked_rows += t.num_rows
        elif t.num_rows:
            sample = [x for x in given[:: max(1, t.num_rows // 50)]]
            for number in sample:
                identity.parse(number, today=dt.date(2030, 1, 1))
    assert damaged_rows == len(bad)
    assert 0.01 < len(bad) / checked_rows < 0.035
    kinds = Counter(b["kind"] for b in bad)
    assert kinds["missing"] and kinds["typo"] and kinds["transposed"]
    real = set(truth["persons"]["id_number"].to_pylist())
    assert all(b["id_number"] not in real for b in bad)
    assert all(b["true_id_number"] in real for b in bad)


@pytest.fixture(scope="module")
def register(out):
    return (read_table(out / "registry/households.csv", HOUSEHOLD_COLUMNS).table.to_pylist(),
            read_table(out / "registry/persons.csv", PERSON_COLUMNS).table.to_pylist())


def test_registry_follows_the_contract(out, register):
    households, persons = register
    assert (out / "registry/households.csv").read_text().split("\n")[0].split(",") == [
        c.name for c in HOUSEHOLD_COLUMNS]
    assert (out / "registry/persons.csv").read_text().split("\n")[0].split(",") == [
        c.name for c in PERSON_COLUMNS]
    tree = {r.code: r for r in demo_tree("37", seed=0)}
    for h in households:
        village = tree[h["region"]]
        assert village.level is Level.village
        assert h["registration"] == ("urban" if village.urban else "rural")
        assert village.code + h["grid"] in tree and len(h["grid"]) == 2
    heads = Counter(p["household_id"] for p in persons if p["relation"] == "head")
    assert set(heads.values()) == {1} and set(heads) == {h["household_id"] for h in households}
    ids = [p["id_number"] for p in persons]
    assert len(set(ids)) == len(ids)
    counties = {r.code[:6] for r in tree.values() if r.level is Level.county}
    for p in persons:
        parsed = identity.parse(p["id_number"], today=dt.date(2026, 1, 1))
        assert parsed.birth_date.isoformat() == p["birth_date"] and parsed.sex == p["sex"]
        assert p["id_number"][:6] in counties
        ep = p["tier"] == "extremely_poor"
        assert (p["support_form"] is not None) == ep and (p["care_level"] is not None) == ep
        assert (p["monthly_benefit"] is not None) == (p["tier"] in ("dibao", "extremely_poor"))
    # the platform's own register validator takes the files without a single error
    checked = validate_register(read_table(out / "registry/households.csv", HOUSEHOLD_COLUMNS),
                                read_table(out / "registry/persons.csv", PERSON_COLUMNS),
                                today=dt.date(2026, 1, 1))
    assert checked.errors == [] and len(checked.persons) == PERSONS


def test_tier_shares_within_tolerance_of_targets(out, register):
    _, persons = register
    counts = Counter(p["tier"] for p in persons)
    calibration = json.loads((out / "truth/calibration.json").read_text())
    for code, target in m.TIER_SHARES.items():
        achieved = counts[m.TIERS[code]] / len(persons)
        assert abs(achieved - target) <= 0.1 * target + 0.002, (m.TIERS[code], achieved)
        assert calibration["tier_shares"][m.TIERS[code]]["target"] == target
    ep_age = calibration["extremely_poor"]["share_aged_60_plus"]
    assert ep_age > 0.75 and calibration["extremely_poor"]["share_dispersed"] > 0.6
    assert 0.04 < calibration["share_disabled"] < 0.09


def test_feed_incomes_match_tiers_and_standards(out, register, feeds):
    """Per-capita income visible in social_insurance sits in each tier's band of the
    county's standard (standards.csv), so the rules engine can re-derive tiers."""
    households, persons = register
    from safetynet.standards.model import STANDARD_COLUMNS

    std_rows = read_table(out / "standards/standards.csv", STANDARD_COLUMNS).table.to_pylist()
    year = START[:4]
    std = {(r["region"][:6], r["registration"]): float(r["amount"]) for r in std_rows
           if r["kind"] == "dibao" and r["effective_from"].startswith(year)}
    income: Counter = Counter()
    si = feeds[("social_insurance", START)]
    for pid, amount in zip(si["id_number"].to_pylist(), si["amount"].to_pylist(), strict=True):
        income[pid] += float(amount)
    by_h: dict[str, list] = {}
    for p in persons:
        by_h.setdefault(p["household_id"], []).append(p)
    home = {h["household_id"]: h for h in households}
    bands = {"dibao": (0, 1.0), "dibao_edge": (1.0, 1.5), "rigid_expenditure": (1.5, 9),
             "other_concern": (1.5, 99), "anti_relapse": (1.5, 99)}
    checked = 0
    for hid, members in by_h.items():
        tier = Counter(p["tier"] for p in members).most_common(1)[0][0]
        if tier not in bands:
            continue
        h = home[hid]
        line = std[(h["region"][:6], h["registration"])]
        ratio = sum(income[p["id_number"]] for p in members) / len(members) / line
        lo, hi = bands[tier]
        assert lo <= ratio < hi, (hid, tier, ratio)
        checked += 1
    assert checked > 1000


def test_planted_events_are_visible_in_the_rows_they_name(feeds, truth):
    events = truth["events"].to_pylist()
    true_of = {b["record_id"]: b["true_id_number"] for b in truth["bad_ids"].to_pylist()}
    kinds = Counter(e["kind"] for e in events)
    assert set(m.EVENT_KINDS) <= set(kinds), set(m.EVENT_KINDS) - set(kinds)
    rows = {}
    for (feed, label), t in sorted(feeds.items()):
        for r in t.to_pylist():  # a snapshot record: as first delivered
            rows.setdefault((feed, r["record_id"]), r | {"month": label})
    for e in events:
        named = [rows.get((e["feed"], rid)) for rid in e["record_ids"]]
        assert named and all(named), e
        first = named[0]
        assert true_of.get(first["record_id"], first["id_number"]) == e["id_number"], e
        month = e["month"]
        if e["kind"] == "income_drop":
            prev = [r for r in named if r["month"] < month]
            now = [r for r in named if r["month"] == month]
            assert prev and float(prev[0]["amount"]) > 0
            assert e["detail"] == "job_loss" or float(now[0]["amount"]) < 0.5 * float(
                prev[0]["amount"])
        else:
            assert first["month"] == month, e
        if e["kind"] == "medical_large":
            assert float(first["out_of_pocket"]) >= m.LARGE_OOP_MIN / 100
        if e["kind"] == "death":
            assert first["death_date"].replace("/", "-")[:7] == month
            pop = rows[("population", e["related_record_ids"][0])]
            assert pop["event"] == "death" and pop["id_number"] == e["id_number"]
        if e["kind"] == "new_disability":
            assert first["issued_on"][:7] == month and first["status"] == "valid"
        if e["kind"] == "education_entry":
            assert first["stage"] in ("senior", "vocational", "college")
            assert first["enrolled_on"] == f"{month}-01" and month.endswith("-09")
        if e["kind"] == "new_car":
            assert first["vehicle_type"] == "car" and first["registered_on"][:7] == month
        if e["kind"] == "new_business":
            assert float(first["registered_capital"]) > 100_000
        if e["kind"] == "cadre_relative":
            assert e["tier"] in ("dibao", "extremely_poor", "dibao_edge") and e["registered"]
    deaths = [e for e in events if e["kind"] == "death"]
    assert any(e["enrolled"] for e in deaths) and any(e["main_earner"] for e in deaths)
    outside = {e["kind"] for e in events if not e["registered"]}
    assert {"medical_large", "hotline_help", "death"} <= outside


def test_feed_rows_mention_people_outside_the_register(feeds, truth):
    persons = truth["persons"]
    registered = set(persons.filter(persons["registered"])["id_number"].to_pylist())
    for feed in ("medical", "hotline", "death"):
        ids = set()
        for label in m.month_labels(START, MONTHS):
            ids |= set(feeds[(feed, label)]["id_number"].drop_null().to_pylist())
        assert ids - registered, feed


def test_bad_parameters_are_refused(tmp_path):
    with pytest.raises(SynthParameterError, match="persons"):
        generate(persons=10, months=1, seed=0, out=tmp_path)
    with pytest.raises(SynthParameterError, match="format"):
        generate(persons=1000, months=1, seed=0, out=tmp_path, fmt="json")
    with pytest.raises(SynthParameterError, match="YYYY-MM"):
        generate(persons=1000, months=1, seed=0, out=tmp_path, start_month="2025-13")


@pytest.mark.parametrize("fmt,suffixes", [("csv", {".csv"}), ("parquet", {".parquet"})])
def test_single_format_runs(tmp_path, fmt, suffixes):
    s = generate(persons=600, months=1, seed=2, out=tmp_path, fmt=fmt)
    assert {p.suffix for p in (tmp_path / "feeds").iterdir()} == suffixes
    assert s.files == len(list((tmp_path / "feeds").iterdir())) == len(m.FEEDS)
    for spec in m.FEEDS:
        t = _feed(tmp_path, spec.name, "2025-01")
        assert t.num_rows == s.feed_rows[spec.name]


def test_cli_prints_a_summary(tmp_path):
    import typer
    from typer.testing import CliRunner

    from safetynet.synth.cli import synth

    app = typer.Typer()
    app.command()(synth)
    result = CliRunner().invoke(app, ["--persons", "500", "--months", "1", "--seed", "3",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "households" in result.output and "social_insurance" in result.output
    assert (tmp_path / "registry/persons.csv").exists()


def test_exit_side_assets_appear_only_where_planted(feeds, truth, register):
    """Enrolled households pass the asset tests (no car, one home, no company over 100,000
    yuan) except where a new_car / new_property / new_business event was planted."""
    _, persons = register
    tier_of_h: dict[str, Counter] = {}
    for p in persons:
        tier_of_h.setdefault(p["household_id"], Counter())[p["tier"]] += 1
    enrolled_h = {h for h, c in tier_of_h.items()
                  if c.most_common(1)[0][0] in ("dibao", "extremely_poor", "dibao_edge")}
    household = {p["id_number"]: p["household_id"] for p in persons}
    planted = {(e["kind"], e["household_id"]) for e in truth["events"].to_pylist()}
    for label in m.month_labels(START, MONTHS):
        cars, homes, big = Counter(), Counter(), Counter()
        for r in feeds[("vehicle", label)].to_pylist():
            if r["vehicle_type"] == "car" and r["deregistered_on"] is None:
                cars[household.get(r["id_number"])] += 1
        for r in feeds[("property", label)].to_pylist():
            if r["use"] == "residential" and r["deregistered_on"] is None:
                homes[household.get(r["id_number"])] += 1
        for r in feeds[("business", label)].to_pylist():
            if r["status"] == "active" and float(r["registered_capital"]) > 100_000:
                big[household.get(r["id_number"])] += 1
        for h in enrolled_h:
            assert not cars[h] or ("new_car", h) in planted, (label, h)
            assert homes[h] <= 1 or ("new_property", h) in planted, (label, h)
            assert not big[h] or ("new_business", h) in planted, (label, h)
    for e in truth["events"].to_pylist():
        if e["kind"] == "new_property":
            members = [p["id_number"] for p in persons if p["household_id"] == e["household_id"]]
            t = feeds[("property", e["month"])]
            owned = [r for r in t.to_pylist() if r["id_number"] in members
                     and r["use"] == "residential"]
            assert len(owned) >= 2, e  # more homes than allowed


def test_large_medical_bills_are_exactly_the_planted_ones(feeds, truth):
    planted = {rid for e in truth["events"].to_pylist() if e["kind"] == "medical_large"
               for rid in e["record_ids"]}
    large = set()
    for label in m.month_labels(START, MONTHS):
        t = feeds[("medical", label)]
        oop = cells.parse_money_fen(t["out_of_pocket"].combine_chunks()).values.to_numpy(
            zero_copy_only=False)
        ids = np.array(t["record_id"].to_pylist())
        large |= set(ids[oop >= m.LARGE_OOP_MIN])
    assert large == planted and planted
