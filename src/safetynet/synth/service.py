"""`generate()`: a whole synthetic province on disk — register, standards, feeds, truth.

Layout of DIR:
  registry/households.csv, registry/persons.csv      (docs/contracts/registry.md)
  standards/standards.csv                            (local standards used)
  feeds/<feed>_<YYYYMM>[_<part>].<csv|xlsx|parquet>  (docs/contracts/feeds.md)
  truth/events.parquet, bad_ids.parquet, persons.parquet, calibration.json

Memory stays bounded by writing feeds month by month; everything about people is held as
numpy arrays (about 150 bytes a person), strings are built by Arrow only for the rows
being written.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.errors import SafetynetError
from safetynet.synth import idnumbers, names
from safetynet.synth import model as m
from safetynet.synth.assets import plan_assets
from safetynet.synth.feeds import EventFeeds, mobiles
from safetynet.synth.geo import build_geo, build_standards
from safetynet.synth.people import REGISTER, build_people
from safetynet.synth.population import RELATIONS, build_register
from safetynet.synth.registry_files import write_registry
from safetynet.synth.snapshots import SnapshotFeeds
from safetynet.synth.timeline import World, plan
from safetynet.synth.truth import Truth, persons_table
from safetynet.synth.writers import Written, typed_column, write_csv, write_table

Progress = Callable[[str, int, int], None]
OUTPUT_DIRS = ("registry", "standards", "feeds", "truth")


class SynthParameterError(SafetynetError, ValueError):
    """generate() was asked for something it cannot make."""


@dataclass
class SynthSummary:
    out: Path
    persons: int
    households: int
    outside_persons: int
    months: int
    start_month: str
    fmt: str
    tier_counts: dict[str, int]
    feed_rows: dict[str, int]
    files: int
    bytes: int
    events: dict[str, int]
    bad_ids: int
    seconds: float = 0.0
    calibration: dict = field(default_factory=dict)

    @property
    def total_feed_rows(self) -> int:
        return sum(self.feed_rows.values())


def generate(*, persons: int, months: int, seed: int, out: Path, start_month: str = "2025-01",
             fmt: str = "mixed", province: str = "37", progress: Progress | None = None,
             part_rows: int | None = None) -> SynthSummary:
    """Generate a synthetic province of `persons` registered people and `months` of feeds.

    Same arguments → identical files. `part_rows` overrides the size at which the large
    monthly feeds are split into parts (tests use it to exercise `_01`, `_02` names).
    """
    t0 = time.perf_counter()
    _check(persons, months, start_month, fmt)
    out = Path(out)
    report = progress or (lambda *_: None)
    total_steps = 3 + months * len(m.FEEDS) + 1
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        report(what, step, total_steps)

    for sub in OUTPUT_DIRS:  # a previous run's files would mix with this one's
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    first, last = m.month_bounds(start_month, months)
    labels = m.month_labels(start_month, months)
    root = np.random.default_rng([seed, 0])
    try:
        geo = build_geo(province, int(persons / 2.2), np.random.default_rng([seed, 1]))
    except ValueError as e:  # unknown province, or one without villages in the demo tree
        raise SynthParameterError(str(e)) from None
    years = m.year_of(np.array([first[0], last[-1]]))
    # from the year before the start ("last year's" line), one January step per year after
    standards = build_standards(geo, int(years[0]) - 1, int(years[1]),
                                np.random.default_rng([seed, 2]))
    reg = build_register(persons, geo, standards, int(first[0]), int(last[-1]),
                         np.random.default_rng([seed, 3]))
    people = build_people(reg, geo, int(first[0]), first, last, np.random.default_rng([seed, 4]))
    tick("people")
    w = World(people=people, reg=reg, geo=geo, standards=standards, first=first, last=last,
              labels=labels, seed=seed)
    plan(w)
    plan_assets(w)
    tick("plan")
    phone_rng = np.random.default_rng([seed, 5])
    h_phone = np.where(phone_rng.random(reg.n_households) < 0.92,
                       mobiles(phone_rng, reg.n_households), 0)
    household_ids = _household_ids(reg.n_households)
    write_registry(out / "registry", w, household_ids, h_phone, root)
    write_csv(standards.table(geo), [], _mkdir(out / "standards") / "standards.csv",
              m.FileFormat("csv"))
    tick("register")

    truth = Truth(people, household_ids)
    events_b = EventFeeds(w, h_phone)
    snaps = SnapshotFeeds(w)
    feed_rows = {f.name: 0 for f in m.FEEDS}
    files, n_bytes = 0, 0
    sorted_bodies = np.sort(people.bodies)
    for k in range(months):
        for spec in m.FEEDS:
            if spec.delivery == "snapshot":
                block = snaps.build(spec.name, k)
            else:
                block = getattr(events_b, spec.name)(k)
            table = _assemble(w, spec, block)
            fformat = m.feed_format(spec.name, fmt, part_rows)
            bad = None
            if spec.name in m.BAD_ID_FEEDS:
                table, bad = _damage_ids(w, spec.name, k, block.person, table, sorted_bodies)
            stem = f"{spec.name}_{labels[k].replace('-', '')}"
            written = write_table(table, spec.all_columns, _mkdir(out / "feeds"), stem, fformat)
            if bad is not None:
                truth.add_bad_ids(_bad_id_table(spec.name, written, bad))
            for ev in block.events:
                truth.add_events(ev)
            feed_rows[spec.name] += table.num_rows
            files += len(written)
            n_bytes += sum(f.path.stat().st_size for f in written)
            tick(f"{spec.name} {labels[k]}")

    calibration = _calibration(w, truth)
    income = people.wage + people.pension
    truth.write(out / "truth", persons_table(people, household_ids, income, reg.h_income_pc,
                                             reg.h_std), calibration)
    tick("truth")
    n_bytes += sum(f.stat().st_size for sub in ("registry", "standards", "truth")
                   for f in (out / sub).iterdir())
    tiers = np.bincount(reg.tier, minlength=len(m.TIERS))
    return SynthSummary(
        out=out, persons=persons, households=reg.n_households,
        outside_persons=int(people.n - people.n_reg), months=months, start_month=start_month,
        fmt=fmt, tier_counts={t: int(tiers[i]) for i, t in enumerate(m.TIERS) if tiers[i]},
        feed_rows=feed_rows, files=files, bytes=n_bytes, events=dict(truth.counts),
        bad_ids=sum(t.num_rows for t in truth.bad), seconds=time.perf_counter() - t0,
        calibration=calibration)


def _check(persons: int, months: int, start_month: str, fmt: str) -> None:
    if persons < 100:
        raise SynthParameterError(f"persons must be at least 100, got {persons}")
    if not 1 <= months <= 120:
        raise SynthParameterError(f"months must be 1–120, got {months}")
    try:
        m.parse_month(start_month)
    except ValueError as e:
        raise SynthParameterError(str(e)) from None
    if fmt not in m.FORMAT_CHOICES:
        raise SynthParameterError(
            f"format must be one of {', '.join(m.FORMAT_CHOICES)}, got {fmt!r}")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _household_ids(n: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width=9,
                          padding="0")
    return pc.binary_join_element_wise(pa.scalar("H"), digits, "")


def _assemble(w: World, spec: m.FeedSpec, block) -> pa.Table:
    p = w.people
    person = pa.array(block.person, pa.int64())
    n = len(block.person)
    cols = {
        "record_id": block.record_id,
        "id_number": p.id_arrow.take(person),
        "name": p.name_arrow.take(person),
        "birth_date": typed_column("date", p.birth[block.person], n),
        "region": pa.array(w.geo.village_code[p.village[block.person]], pa.string()),
    }
    for name, _, kind in spec.columns:
        cols[name] = typed_column(kind, block.cols[name], n)
    return pa.table(cols)


def _damage_ids(w: World, feed: str, k: int, person: np.ndarray, table: pa.Table,
                sorted_bodies: np.ndarray):
    """~2 % of rows get a missing or mistyped id number; name and birth date stay close."""
    rng = w.rng("bad_ids", feed, k)
    n = table.num_rows
    rows = np.flatnonzero(rng.random(n) < m.BAD_ID_RATE)
    if len(rows) == 0:
        return table, None
    kinds = rng.choice(len(m.BAD_ID_KINDS), size=len(rows), p=m.BAD_ID_KIND_P)
    true_ids = w.people.ids[person[rows]]
    given, kinds = idnumbers.corrupt(true_ids, kinds, sorted_bodies, rng)
    mask = np.zeros(n, bool)
    mask[rows] = True
    given_arr = pa.array(given).cast(pa.string())
    given_arr = pc.if_else(pc.equal(given_arr, ""), pa.scalar(None, pa.string()), given_arr)
    table = table.set_column(1, "id_number",
                             pc.replace_with_mask(table["id_number"].combine_chunks(),
                                                  pa.array(mask), given_arr))
    no_birth = rows[rng.random(len(rows)) < m.BAD_ID_NO_BIRTH_DATE_P]
    if len(no_birth):
        nb = np.zeros(n, bool)
        nb[no_birth] = True
        col = table.column_names.index("birth_date")
        table = table.set_column(col, "birth_date", pc.replace_with_mask(
            table["birth_date"].combine_chunks(), pa.array(nb),
            pa.nulls(len(no_birth), pa.date32())))
    varied = rows[rng.random(len(rows)) < m.BAD_ID_NAME_VARIANT_P]
    if len(varied):
        nv = np.zeros(n, bool)
        nv[varied] = True
        col = table.column_names.index("name")
        names_col = table["name"].combine_chunks()
        table = table.set_column(col, "name", pc.replace_with_mask(
            names_col, pa.array(nv), names.vary(names_col.take(pa.array(varied)))))
    bad = {"rows": rows, "given": given_arr, "true": pa.array(true_ids).cast(pa.string()),
           "kinds": kinds, "record_id": table["record_id"].combine_chunks().take(pa.array(rows))}
    return table, bad


def _bad_id_table(feed: str, written: list[Written], bad: dict) -> pa.Table:
    starts = np.array([f.first_row for f in written])
    file_idx = np.searchsorted(starts, bad["rows"], side="right") - 1
    file_names = pa.array([f.path.name for f in written]).take(pa.array(file_idx))
    n = len(bad["rows"])
    return pa.table({
        "feed": pa.array([feed] * n, pa.string()),
        "file": file_names,
        "record_id": bad["record_id"],
        "id_number": bad["given"],
        "true_id_number": bad["true"],
        "kind": pa.array(np.array(m.BAD_ID_KINDS)[bad["kinds"]]),
    })


def _calibration(w: World, truth: Truth) -> dict:
    p, reg = w.people, w.reg
    n = reg.n_persons
    tiers = np.bincount(reg.tier, minlength=len(m.TIERS))
    age = w.age(w.start)[:n]
    ep = reg.tier == m.EP
    shares = {}
    for t, target in m.TIER_SHARES.items():
        achieved = tiers[t] / n
        shares[m.TIERS[t]] = {"target": target, "achieved": round(float(achieved), 5),
                              "persons": int(tiers[t]), "source": m.TIER_SHARE_SOURCES[t]}
    h_counts = np.bincount(reg.h_tier, minlength=len(m.TIERS))
    return {
        "tier_shares": shares,
        "households": {m.TIERS[t]: {"count": int(h_counts[t]),
                                    "mean_size": round(float(reg.h_size[reg.h_tier == t].mean()), 3)}
                       for t in m.TIER_SHARES if h_counts[t]},
        "persons": int(n),
        "share_aged_60_plus": round(float((age >= 60).mean()), 4),
        "share_minors": round(float((age < 18).mean()), 4),
        "share_male": round(float(reg.sex.mean()), 4),
        "share_disabled": round(float((reg.dis_cat >= 0).mean()), 4),
        "share_urban_households": round(float(reg.h_urban.mean()), 4),
        "relations": {r: int(c) for r, c in zip(RELATIONS, np.bincount(
            reg.relation, minlength=len(RELATIONS)), strict=True)},
        "extremely_poor": {
            "share_aged_60_plus": round(float((age[ep] >= 60).mean()), 4) if ep.any() else None,
            "share_dispersed": round(float((reg.support[ep] == 1).mean()), 4) if ep.any() else None,
            "share_self_care": round(float((reg.care[ep] == 0).mean()), 4) if ep.any() else None,
            "share_single_person": round(float((reg.h_size[reg.hh[ep]] == 1).mean()), 4)
            if ep.any() else None,
        },
        "single_person_dibao": int(reg.single_dibao.sum()),
        "outside_register": int((p.origin != REGISTER).sum()),
        "event_rates_per_1000_per_month": dict(m.EVENT_RATES),
        "events": dict(sorted(truth.counts.items())),
    }
