"""Use cases for local standards: import, derive linked kinds, look up on a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
from sqlalchemy import Engine, select, update

from safetynet import cells
from safetynet.errors import InputFileError, NotFoundError, RowError, SafetynetError
from safetynet.regions import store as regions_store
from safetynet.regions.model import full_code
from safetynet.registry.model import REGISTRATION_LABELS
from safetynet.rules.model import LOCAL_POLICY_FIELDS
from safetynet.standards import model, store
from safetynet.tabular import read_table


@dataclass
class StandardsReport:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged,
                "errors": [e.as_dict() for e in self.errors]}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def import_standards(engine: Engine, *, path: Path, actor: str = "cli") -> StandardsReport:
    """Import a standards file (CSV/xlsx/Parquet). All rows valid or nothing is written."""
    tf = read_table(Path(path), model.STANDARD_COLUMNS)
    t = tf.table
    errors: list[RowError] = []

    def flag(mask: np.ndarray, column: str, reason) -> None:  # noqa: ANN001
        for i in np.flatnonzero(mask):
            errors.append(RowError(tf.name, tf.line_of(int(i)), column,
                                   reason(int(i)) if callable(reason) else reason))

    for col in ("region", "registration", "kind", "effective_from", "amount"):
        flag(~pc.is_valid(t.column(col)).to_numpy(zero_copy_only=False), col, f"{col} is required")
    region = t.column("region").to_pylist()
    reg = cells.parse_enum(t.column("registration").combine_chunks(), REGISTRATION_LABELS)
    flag(reg.invalid, "registration", f"use one of: {cells.allowed_values(REGISTRATION_LABELS)}")
    kind = cells.parse_enum(t.column("kind").combine_chunks(), model.KIND_LABELS)
    flag(kind.invalid, "kind", f"use one of: {', '.join(model.KIND_LABELS)}")
    since = cells.parse_dates(t.column("effective_from").combine_chunks())
    flag(since.invalid, "effective_from", f"not a date; use {cells.DATE_FORMS}")
    amount = cells.parse_money_fen(t.column("amount").combine_chunks())
    flag(amount.invalid, "amount", f"not an amount: {cells.MONEY_FORM}")

    codes = [full_code(r) if r and r.isdigit() and len(r) in (2, 4, 6, 9) else r for r in region]
    with engine.begin() as conn:
        known = regions_store.existing_codes(conn, {c for c in codes if c})
        flag(np.array([c is not None and c not in known for c in codes], dtype=bool), "region",
             lambda i: f"{region[i]!r} is not a known administrative code (e.g. 370402 or 370402000000)")
        if errors:
            raise InputFileError(errors)
        rows = [
            {"region_code": c, "registration": r, "kind": k, "effective_from": d,
             "amount_fen": a, "source": s}
            for c, r, k, d, a, s in zip(codes, reg.values.to_pylist(), kind.values.to_pylist(),
                                        since.values.to_pylist(), amount.values.to_pylist(),
                                        t.column("source").to_pylist(), strict=True)
        ]
        return _upsert(conn, rows, actor)


def _upsert(conn, rows: list[dict], actor: str, derived_from: dict | None = None) -> StandardsReport:  # noqa: ANN001
    s = store.standards
    report = StandardsReport()
    now = _now()
    existing = {
        (r.region_code, r.registration, r.kind, r.effective_from): r
        for r in conn.execute(select(s).where(s.c.region_code.in_({r["region_code"] for r in rows})))
    }
    ids = {}
    for row in rows:
        key = (row["region_code"], row["registration"], row["kind"], row["effective_from"])
        old = existing.get(key)
        if old is None:
            ids[key] = conn.execute(s.insert().returning(s.c.id),
                                    {**row, "recorded_at": now, "actor": actor}).scalar_one()
            report.new += 1
        elif old.amount_fen != row["amount_fen"] or (row.get("source") and old.source != row["source"]):
            conn.execute(store.standard_versions.insert(), {
                "standard_id": old.id, "amount_fen": old.amount_fen, "source": old.source,
                "recorded_at": old.recorded_at, "actor": old.actor, "superseded_at": now})
            conn.execute(update(s).where(s.c.id == old.id).values(
                amount_fen=row["amount_fen"], source=row.get("source") or old.source,
                derived_from=row.get("derived_from"), recorded_at=now, actor=actor))
            ids[key] = old.id
            report.changed += 1
        else:
            ids[key] = old.id
            report.unchanged += 1
    return report


def derive_from_dibao(
    engine: Engine, *, region: str, effective_from: dt.date, dibao_fen: dict[str, int],
    source: str, actor: str = "cli",
) -> dict[str, dict[str, int]]:
    """Set a new dibao standard (per registration) and the kinds linked to it.

    Returns registration → kind → fen of everything written. The linked rows point at the
    dibao row they came from, so a later audit can see they were derived, not decided.
    """
    code = full_code(region) if len(region) < 12 else region
    out: dict[str, dict[str, int]] = {}
    s = store.standards
    with engine.begin() as conn:
        if not regions_store.existing_codes(conn, {code}):
            raise NotFoundError(f"region {region} is not a known administrative code")
        for registration, fen in dibao_fen.items():
            if registration not in REGISTRATION_LABELS:
                raise InputFileError([RowError("arguments", None, "registration",
                                               f"{registration!r}: use urban or rural")])
            base = {"region_code": code, "registration": registration, "effective_from": effective_from,
                    "source": source}
            _upsert(conn, [{**base, "kind": "dibao", "amount_fen": fen}], actor)
            dibao_id = conn.execute(select(s.c.id).where(
                s.c.region_code == code, s.c.registration == registration, s.c.kind == "dibao",
                s.c.effective_from == effective_from)).scalar_one()
            linked = model.derive_linked(fen, effective_from)
            _upsert(conn, [{**base, "kind": k, "amount_fen": v, "derived_from": dibao_id,
                            "source": f"derived from dibao #{dibao_id}: {model.links()[k].reference}"}
                           for k, v in linked.items()], actor)
            out[registration] = {"dibao": fen, **linked}
    return out


def lookup(engine: Engine, *, region: str, registration: str, on: dt.date) -> dict[str, int]:
    """kind → fen in force for a place on a date. A county's own value wins; a kind it has
    not set falls back to its city, then its province."""
    return lookup_many(engine, places=[(region, registration)], on=on)[(region, registration)]


def lookup_many(engine: Engine, *, places: Iterable[tuple[str, str]], on: dt.date,
                missing_ok: bool = False) -> dict[tuple[str, str], dict[str, int]]:
    """`lookup` for many (region, registration) places in two queries' worth of work:
    (region, registration) → kind → fen. An unknown region raises NotFoundError, or gives
    {} with `missing_ok`."""
    places = list(dict.fromkeys(places))
    s = store.standards
    out: dict[tuple[str, str], dict[str, int]] = {}
    with engine.connect() as conn:
        chains: dict[str, list[str]] = {}
        for region in {r for r, _ in places}:
            code = full_code(region) if len(region) < 12 else region
            place = regions_store.get(conn, code)
            if place is None:
                if missing_ok:
                    chains[region] = []
                    continue
                raise NotFoundError(f"region {region} is not known")
            parts = place.path.rstrip("/").split("/")
            chains[region] = [full_code(p) if len(p) <= 12 else p for p in parts]
        wanted = {c for chain in chains.values() for c in chain}
        rows = conn.execute(
            select(s.c.region_code, s.c.registration, s.c.kind, s.c.amount_fen, s.c.effective_from)
            .where(s.c.region_code.in_(wanted), s.c.effective_from <= on)
        ).all() if wanted else []
    by_code: dict[tuple[str, str], list] = {}
    for region_code, registration, kind, fen, since in rows:
        by_code.setdefault((region_code, registration), []).append((kind, fen, since))
    for region, registration in places:
        best: dict[str, tuple[int, dt.date, int]] = {}
        for depth, code in enumerate(chains[region]):
            for kind, fen, since in by_code.get((code, registration), ()):
                rank = (depth, since)
                if kind not in best or rank > best[kind][:2]:
                    best[kind] = (depth, since, fen)
        out[(region, registration)] = {k: v[2] for k, v in best.items()}
    return out


def history(engine: Engine, *, region: str) -> list[dict]:
    """Every standard of a region, oldest first (what a supervisor checks)."""
    code = full_code(region) if len(region) < 12 else region
    s = store.standards
    with engine.connect() as conn:
        rows = conn.execute(select(s).where(s.c.region_code == code)
                            .order_by(s.c.kind, s.c.registration, s.c.effective_from)).mappings()
        return [dict(r) for r in rows]


def in_force_by_county(engine: Engine, *, path: str, on: dt.date) -> list[dict]:
    """For a province or city (its region `path`): every county below it with the standards in
    force there on `on` (a county's own value winning over its city's and province's, as
    `lookup`). Standards are set per county, so this is what a province or city looks at.
    Two queries: the counties of the subtree, then every standard of them and their parents.
    Each item: code, name, city (name), own (a value of the county's own is in force),
    values {registration: {kind: fen}}, effective_from (the latest date behind the values)."""
    from safetynet.regions.model import Level

    s = store.standards
    with engine.connect() as conn:
        counties = regions_store.subtree(conn, path, Level.county)
        cities = {r.code: r for r in regions_store.subtree(conn, path.split("/")[0] + "/", Level.city)}
        province = full_code(path.split("/")[0])
        wanted = {province, *cities, *(c.code for c in counties)}
        rows = conn.execute(
            select(s.c.region_code, s.c.registration, s.c.kind, s.c.amount_fen, s.c.effective_from)
            .where(s.c.region_code.in_(wanted), s.c.effective_from <= on)).all() if counties else []
    by_code: dict[str, list] = {}
    for r in rows:
        by_code.setdefault(r.region_code, []).append(r)
    out = []
    for c in counties:
        best: dict[tuple[str, str], tuple[int, dt.date, int]] = {}
        for depth, code in enumerate((province, c.parent_code, c.code)):
            for r in by_code.get(code or "", ()):
                key, rank = (r.registration, r.kind), (depth, r.effective_from)
                if key not in best or rank > best[key][:2]:
                    best[key] = (depth, r.effective_from, r.amount_fen)
        values: dict[str, dict[str, int]] = {}
        for (registration, kind), (_, _, fen) in sorted(best.items()):
            values.setdefault(registration, {})[kind] = fen
        city = cities.get(c.parent_code or "")
        out.append({"code": c.code, "name": c.name, "city": city.name if city else "",
                    "own": bool(by_code.get(c.code)), "values": values,
                    "effective_from": max((b[1] for b in best.values()), default=None)})
    return out


def local_policy_for(engine: Engine, *, region: str, registration: str, on: dt.date) -> dict | None:
    """The store's standards shaped as the assess contract's `local_policy` (yuan), for the
    rules engine; None when the store knows nothing for the place and date. Same kind →
    rule-input mapping as `household_standards` (model.rule_values)."""
    try:
        values = model.rule_values(lookup(engine, region=region, registration=registration, on=on))
    except NotFoundError:
        return None
    paths = {var: path for path, var in LOCAL_POLICY_FIELDS.items()}
    policy: dict = {}
    for var, fen in values.items():
        head, _, tail = paths[var].partition(".")
        if tail:
            policy.setdefault(head, {})[tail] = fen / 100
        else:
            policy[head] = fen / 100
    return policy or None


def rule_defaults(on: dt.date) -> model.RuleDefaults:
    """The rules' dated defaults of the local standards on `on` (fen); SafetynetError naming
    the parameter when none covers the date."""
    from safetynet.rules.system import get_system

    p = get_system().get_parameters_at_instant(on.isoformat())

    def fen(value, name: str) -> int:  # noqa: ANN001
        if value is None:
            raise SafetynetError(f"no dated default of {name} covers {on.isoformat()}: store the local "
                                 "standard (safetynet standards import) or add a dated parameter value")
        return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    st = p.standards
    return model.RuleDefaults(
        dibao={r: fen(st.dibao_standard[r], f"standards.dibao_standard.{r}") for r in ("urban", "rural")},
        extremely_poor_basic={r: fen(st.extremely_poor_basic_standard[r],
                                     f"standards.extremely_poor_basic_standard.{r}")
                              for r in ("urban", "rural")},
        basic_min_ratio=Decimal(str(p.extremely_poor.basic_standard_min_ratio)),
        care={k: fen(st.care_standard[k.removeprefix("care_")], f"standards.care_standard.{k[5:]}")
              for k in model.CARE_KINDS})


def household_standards(engine: Engine, *, counties: np.ndarray, registrations: np.ndarray,
                        on: dt.date) -> model.HouseholdStandards:
    """The local standards (fen) per household for a batch assessment on `on`: the store's
    value for the household's county and registration (falling back up the region tree),
    else the rules' dated default. One lookup per county × registration. Use
    `.columns()` as the `local` argument of `analytics.adapter.to_assess_inputs`, and
    `.with_dibao(...)` for a changed dibao standard (simulation)."""
    counties = np.asarray(counties).astype(str)
    registrations = np.asarray(registrations).astype(str)
    n = len(counties)
    if n:
        pairs = np.char.add(np.char.add(counties, "|"), registrations)
        unique, index = np.unique(pairs, return_inverse=True)
        keys = [tuple(str(u).split("|", 1)) for u in unique]
    else:
        keys, index = [], np.zeros(0, np.int64)
    found = lookup_many(engine, places=keys, on=on, missing_ok=True)
    stored = [found[k] for k in keys]
    return model.household_standards(stored, np.asarray(index).reshape(n), registrations,
                                     rule_defaults(on), on)


def store_lookup(engine: Engine):  # noqa: ANN201
    """A `standards_lookup(region, registration, as_of)` for rules.service.assess, or None
    when the database has not been set up (assess then uses the dated defaults)."""
    from sqlalchemy import inspect

    if not inspect(engine).has_table(store.standards.name):
        return None
    return lambda region, registration, on: local_policy_for(
        engine, region=region, registration=registration, on=on)
