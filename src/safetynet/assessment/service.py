"""Use cases of batch assessment: run the rules over every household of the register for a
month and keep the result as a dated run; list and read runs and their tier changes.

The chain is the simulation's: `analytics.service.household_facts` (register snapshot on the
month's last day + lake) → `standards.service.household_standards` (the one standards →
rule-input adapter) → `analytics.adapter.to_assess_inputs` → `rules.service.assess_many`
(all households in one vectorised simulation). The registered tier compared with is the
enrolment current on the same day, from the same snapshot as the facts.

A run is written in ONE transaction (run row, result rows, completion): a crash leaves no
trace, and re-running a month adds a new run beside the old ones (runs are history).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Engine, func, or_, select, update

import safetynet
from safetynet.analytics.adapter import to_assess_inputs
from safetynet.analytics.facts import month_window
from safetynet.analytics.service import fetch_query, household_facts, within_region
from safetynet.assessment import model, store
from safetynet.db import bulk_insert
from safetynet.errors import NotFoundError
from safetynet.identity import mask_household_no
from safetynet.regions import service as regions_service
from safetynet.rules.service import assess_many
from safetynet.standards import service as standards_service

MAX_PAGE_SIZE = 500
WRITE_CHUNK = 100_000  # result rows built and written at a time
Progress = Callable[[str], None]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fen(values: np.ndarray) -> np.ndarray:
    """Amounts the rules rounded to the fen (yuan, float) → integer fen."""
    return np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)


@lru_cache
def rules_provenance() -> dict:
    """Which rules assessed: package versions and a digest of the rule parameters and variables."""
    import safetynet.rules as rules_pkg

    root = Path(rules_pkg.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("parameters/**/*.yaml"), *root.glob("variables/**/*.py")]):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return {"safetynet": safetynet.__version__,
            "openfisca_core": importlib_metadata.version("openfisca-core"),
            "rules_sha256": digest.hexdigest()}


def _strings(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=object)


def run_assessment(engine: Engine, *, month: str, region: str | None = None, actor: str,
                   lake_dir: Path | None = None, progress: Progress | None = None) -> dict:
    """Assess every household of the register (or under `region`, a code prefix) for `month`
    (YYYY-MM) and save the result as a new run. Returns the run (as `get_run`).
    Raises AssessmentInputError for a bad month or region."""
    model.check_month(month)
    region = model.check_region(region)
    if not actor:
        raise model.AssessmentInputError("actor", "actor is required: who starts the run")
    if region:
        try:
            regions_service.get_region(engine, code=region)
        except NotFoundError:
            raise model.AssessmentInputError("region", f"{region} is not a known administrative code "
                                                       "(e.g. 37, 3704, 370402)") from None
    if lake_dir is None:
        from safetynet.config import get_settings

        lake_dir = get_settings().data_dir / "lake"
    step = progress or (lambda _s: None)
    started = _now()
    _, as_of, _, _ = month_window(month)
    timings: dict[str, float] = {}

    t = time.perf_counter()
    step("facts")
    households, persons = household_facts(engine, month=month, lake_dir=Path(lake_dir))
    households, persons = within_region(households, persons, region)
    timings["facts"] = time.perf_counter() - t

    t = time.perf_counter()
    step("assess")
    region_codes = _strings(households, "region_code").astype(str)
    counties_all = np.array([c[:6] for c in region_codes], dtype=str) if len(region_codes) else \
        np.zeros(0, dtype=str)
    registrations = _strings(households, "registration").astype(str)
    standards = standards_service.household_standards(engine, counties=counties_all,
                                                      registrations=registrations, on=as_of)
    h_cols, p_cols, ids = to_assess_inputs(households, persons, local=standards.columns())
    keep = households.column("members").to_numpy(zero_copy_only=False) > 0
    if len(ids):
        out = assess_many(as_of=as_of, households=h_cols, persons=p_cols)
        ho, po = out["households"], out["persons"]
        tier = np.asarray(ho["household_tier"]).astype(str)
        benefit = _fen(ho["total_benefit"])
        income = _fen(ho["per_capita_income"])
        p_tier = np.asarray(po["person_tier"]).astype(str)
        p_ep = np.asarray(po["extremely_poor"], dtype=bool)
        p_single = np.asarray(po["single_person_dibao"], dtype=bool)
        p_care = np.asarray(po["care_level"]).astype(str)
        p_benefit = _fen(po["extremely_poor_benefit"]) + _fen(po["single_person_dibao_benefit"])
    else:
        tier = np.zeros(0, dtype=str)
        benefit = income = np.zeros(0, np.int64)
        p_tier = p_care = np.zeros(0, dtype=str)
        p_ep = p_single = np.zeros(0, dtype=bool)
        p_benefit = np.zeros(0, np.int64)
    counties = counties_all[keep]
    registered = _strings(households, "registered_tier")[keep]
    changes = model.change_kinds(registered, tier)
    names = regions_service.names(engine, sorted(set(counties.tolist())))
    summary = model.summarize(counties, registered, tier, changes, benefit, names)
    timings["assess"] = time.perf_counter() - t

    t = time.perf_counter()
    step("write")
    household_nos = _strings(households, "household_no")[keep]
    dibao_fen = standards.dibao_fen[keep]
    columns = (ids, household_nos, counties, region_codes[keep], tier, benefit, income, dibao_fen,
               registered, changes)

    def result_rows(run_id: int, part: slice) -> list[dict]:
        return [{"run_id": run_id, "household_id": int(i), "household_no": str(no), "county_code": str(c),
                 "region_code": str(rc), "tier": str(tr), "benefit_fen": int(b),
                 "per_capita_income_fen": int(pci), "dibao_standard_fen": int(d), "registered_tier": reg,
                 "change": str(ch)}
                for i, no, c, rc, tr, b, pci, d, reg, ch in zip(*(col[part].tolist() for col in columns),
                                                                strict=True)]

    decided = np.flatnonzero(p_ep | p_single)
    person_ids = persons.column("person_id").to_numpy(zero_copy_only=False)
    person_hh = persons.column("household_id").to_numpy(zero_copy_only=False)
    person_reg = _strings(persons, "registered_tier")
    person_rows = [{"person_id": int(person_ids[i]), "household_id": int(person_hh[i]),
                    "tier": str(p_tier[i]), "single_person_dibao": bool(p_single[i]),
                    "care_level": str(p_care[i]) if p_ep[i] else None, "benefit_fen": int(p_benefit[i]),
                    "registered_tier": person_reg[i]} for i in decided.tolist()]
    provenance = {"rules": rules_provenance(), "standards": standards.provenance()}
    r = store.assessment_runs
    with engine.begin() as conn:
        run_id = conn.execute(r.insert().returning(r.c.id), {
            "month": month, "as_of": as_of, "region": region, "status": model.RunStatus.running.value,
            "started_at": started, "actor": actor, "households": 0, "persons": 0, "changed": 0,
            "monthly_benefit_fen": 0, "summary": {}, "provenance": provenance, "timings": {}}).scalar_one()
        for start in range(0, len(ids), WRITE_CHUNK):  # chunks bound the memory, one transaction
            part = slice(start, start + WRITE_CHUNK)
            bulk_insert(conn, store.assessment_results, result_rows(run_id, part))
        bulk_insert(conn, store.assessment_person_results, [{"run_id": run_id, **row} for row in person_rows])
        timings["write"] = time.perf_counter() - t
        conn.execute(update(r).where(r.c.id == run_id).values(
            status=model.RunStatus.completed.value, finished_at=_now(), households=len(ids),
            persons=int(persons.num_rows), changed=int((changes != model.Change.unchanged.value).sum()),
            monthly_benefit_fen=int(benefit.sum()) if len(benefit) else 0, summary=summary,
            timings={k: round(v, 3) for k, v in timings.items()}))
    return get_run(engine, run_id=run_id)


# --- reading ----------------------------------------------------------------------------------

def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _run_dict(row, *, full: bool) -> dict:  # noqa: ANN001
    out = {"id": row.id, "month": row.month, "as_of": _iso(row.as_of), "region": row.region,
           "status": row.status, "status_label": model.STATUS_LABELS.get(row.status, row.status),
           "started_at": _iso(row.started_at), "finished_at": _iso(row.finished_at), "actor": row.actor,
           "households": row.households, "persons": row.persons, "changed": row.changed,
           "monthly_benefit_fen": row.monthly_benefit_fen,
           "changes": (row.summary or {}).get("total", {}).get("changes", {})}
    if full:
        out.update(summary=row.summary, provenance=row.provenance, timings=row.timings)
    return out


def check_page(page: int, page_size: int) -> tuple[int, int]:
    if not isinstance(page, int) or page < 1:
        raise model.AssessmentInputError("page", f"page must be a whole number ≥ 1, got {page!r}")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise model.AssessmentInputError("page_size",
                                         f"page_size must be 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
    return page, page_size


def list_runs(engine: Engine, *, month: str | None = None, page: int = 1, page_size: int = 20,
              scope: str | None = None) -> dict:
    """Runs newest first: {items, total, page, page_size} (items without the county detail).
    `scope` (a reader's region prefix): only runs with households of that region, each as
    `reader_view` shows it; None: every run as it is (the operator's CLI)."""
    check_page(page, page_size)
    if month is not None:
        model.check_month(month)
    r = store.assessment_runs
    where = [r.c.month == month] if month else []
    if scope:
        # the run lies inside the region, or covers it (the whole register, or a region above)
        above = [scope[:n] for n in (2, 4, 6, 9, 12) if n < len(scope)]
        where.append(or_(r.c.region.is_(None), r.c.region.startswith(scope), r.c.region.in_(above)))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(r).where(*where)).scalar_one()
        rows = conn.execute(select(r).where(*where).order_by(r.c.id.desc())
                            .limit(page_size).offset((page - 1) * page_size)).all()
        items = [_reader_view(conn, _run_dict(x, full=True), scope) for x in rows]
    return {"items": [{k: v for k, v in x.items() if k not in _DETAIL} for x in items], "total": total,
            "page": page, "page_size": page_size}


_DETAIL = ("summary", "provenance", "timings")


def reader_view(engine: Engine, *, run_id: int, scope: str | None) -> dict:
    """One run as a reader bound to region `scope` may see it (see `_reader_view`);
    NotFoundError for a run with nothing of their region, exactly as for a missing one."""
    run = get_run(engine, run_id=run_id)
    with engine.connect() as conn:
        return _reader_view(conn, run, scope)


def _reader_view(conn: Connection, run: dict, scope: str | None) -> dict:
    """A run inside the reader's region is all theirs. A run over a larger region (the whole
    register, the province for a county) is shown as the reader's part only: totals and counties
    over its households in the reader's region — from the summary's county entries for a county
    or above, from the run's result rows below that — and `persons` null (the run keeps no
    per-household person count). A run of another region is not found."""
    if not scope:
        return run
    relation = model.run_region_relation(run["region"], scope)
    if relation == "apart":
        raise _not_found(run["id"])
    counties = run["summary"].get("counties", [])
    if relation == "inside" or (counties and all(c["code"].startswith(scope) for c in counties)):
        return run
    if len(scope) <= 6:
        mine = [c for c in counties if c["code"].startswith(scope)]
        total = model.empty_counts()
        for c in mine:
            model.add_counts(total, {k: v for k, v in c.items() if k not in ("code", "name")})
    else:
        a = store.assessment_results
        groups = conn.execute(
            select(a.c.registered_tier, a.c.tier, a.c.change, func.count(), func.sum(a.c.benefit_fen))
            .where(a.c.run_id == run["id"], a.c.region_code.startswith(scope))
            .group_by(a.c.registered_tier, a.c.tier, a.c.change)).all()
        total = model.counts_of_groups([tuple(g) for g in groups])
        names = {c["code"]: c["name"] for c in counties}
        county = scope[:6]
        mine = [{"code": county, "name": names.get(county, ""), **total}] if total["households"] else []
    return run | {"households": total["households"], "persons": None,
                  "changed": total["households"] - total["changes"][model.Change.unchanged.value],
                  "monthly_benefit_fen": total["monthly_benefit_fen"], "changes": total["changes"],
                  "summary": {"total": total, "counties": mine}, "scoped_to": scope}


def get_run(engine: Engine, *, run_id: int) -> dict:
    """One run with its summary (totals and by county), provenance and timings."""
    r = store.assessment_runs
    with engine.connect() as conn:
        row = conn.execute(select(r).where(r.c.id == run_id)).first()
    if row is None:
        raise _not_found(run_id)
    return _run_dict(row, full=True)


def _not_found(run_id: int) -> NotFoundError:
    return NotFoundError(f"assessment run {run_id} not found; list runs with `safetynet assessment list`")


# A household's figures in a run's changes that are personal data (its income, benefit and
# tiers): the audit row of a read names them; `amounts=False` leaves the money out.
CHANGES_AMOUNTS = ("benefit_fen", "per_capita_income_fen")
CHANGES_PERSONAL = ("registered_tier", "tier", *CHANGES_AMOUNTS)


def changes_fields(*, amounts: bool) -> list[str]:
    """The personal fields a page of `list_changes` holds (for its audit row)."""
    return [f for f in CHANGES_PERSONAL if amounts or f not in CHANGES_AMOUNTS]


def list_changes(engine: Engine, *, run_id: int, change: str | None = None, county: str | None = None,
                 include_unchanged: bool = False, page: int = 1, page_size: int = 50,
                 scope: str | None = None, amounts: bool = True) -> dict:
    """The households of a run with their tier change, household numbers masked:
    {items, total, page, page_size}. Without `change`, only households that changed (unless
    `include_unchanged`). `scope`: only households whose region code starts with it (the
    reader's region; a run with none of them is not found). `amounts=False`: each household's
    benefit and income null (a reader who may not see them elsewhere: registry.sensitive)."""
    check_page(page, page_size)
    change = model.check_change(change)
    if county is not None and not (county.isdigit() and len(county) == 6):
        raise model.AssessmentInputError("county",
                                         f"not a county code: {county!r}; use 6 digits (e.g. 370402)")
    run = get_run(engine, run_id=run_id)  # NotFoundError for an unknown run
    if scope and model.run_region_relation(run["region"], scope) == "apart":
        raise _not_found(run_id)
    a = store.assessment_results
    where = [a.c.run_id == run_id]
    if change:
        where.append(a.c.change == change)
    elif not include_unchanged:
        where.append(a.c.change != model.Change.unchanged.value)
    if county:
        where.append(a.c.county_code == county)
    if scope:
        where.append(a.c.region_code.startswith(scope))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(a).where(*where)).scalar_one()
        rows = conn.execute(select(a).where(*where).order_by(a.c.household_id)
                            .limit(page_size).offset((page - 1) * page_size)).all()
    items = [{"household_id": x.household_id, "household_no": mask_household_no(x.household_no),
              "county_code": x.county_code, "registered_tier": x.registered_tier or "none",
              "tier": x.tier, "tier_label": model.TIER_LABELS.get(x.tier, x.tier), "change": x.change,
              "change_label": model.CHANGE_LABELS[x.change],
              "benefit_fen": x.benefit_fen if amounts else None,
              "per_capita_income_fen": x.per_capita_income_fen if amounts else None,
              "dibao_standard_fen": x.dibao_standard_fen}
             for x in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def person_results(engine: Engine, *, run_id: int) -> list[dict]:
    """The person-level decisions of a run (extremely poor persons, single-person dibao)."""
    get_run(engine, run_id=run_id)
    p = store.assessment_person_results
    with engine.connect() as conn:
        rows = conn.execute(select(p).where(p.c.run_id == run_id).order_by(p.c.person_id)).mappings().all()
    return [dict(x) for x in rows]


CHANGED_RESULTS = pa.schema([("month", pa.string()), ("run_id", pa.int64()), ("household_id", pa.int64()),
                             ("tier", pa.string()), ("registered_tier", pa.string()), ("change", pa.string()),
                             ("per_capita_income_fen", pa.int64()), ("dibao_standard_fen", pa.int64())])


def changed_results(engine: Engine, *, months: list[str]) -> pa.Table:
    """For each household and month of `months`, its result in the latest completed run of that month
    that assessed it, when that result moves an enrolled household (change other than unchanged), as
    Arrow (monitoring's exit checks read them). A later run finding the household unchanged hides an
    earlier run's change."""
    r, u = store.assessment_results, store.assessment_runs
    r2, u2 = r.alias("later"), u.alias("later_run")
    later = (select(r2.c.run_id).select_from(r2.join(u2, u2.c.id == r2.c.run_id))
             .where(u2.c.month == u.c.month, u2.c.status == model.RunStatus.completed,
                    r2.c.household_id == r.c.household_id, r2.c.run_id > r.c.run_id))
    query = (select(u.c.month, r.c.run_id, r.c.household_id, r.c.tier, r.c.registered_tier, r.c.change,
                    r.c.per_capita_income_fen, r.c.dibao_standard_fen)
             .select_from(r.join(u, u.c.id == r.c.run_id))
             .where(u.c.status == model.RunStatus.completed, u.c.month.in_(months),
                    r.c.registered_tier.is_not(None), r.c.change != model.Change.unchanged,
                    ~later.exists()))
    return fetch_query(engine, query, CHANGED_RESULTS)
