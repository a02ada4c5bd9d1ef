"""Registry use cases: import a register delivery; read households back.

Import (docs/contracts/registry.md) is one transaction: validate both files completely,
then write the differences against the store. Unchanged rows are not touched, so
re-importing the same files changes nothing; a changed row bumps its version and the
old content goes to the *_versions table; membership and tier changes close the open
interval and open a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Engine, and_, or_, select, update

from safetynet import identity
from safetynet.db import bulk_insert, bulk_update, fetch_by_keys, lock_for_import, reserve_ids
from safetynet.errors import InputFileError, NotFoundError, RowError
from safetynet.regions import service as regions_service
from safetynet.registry import model, store
from safetynet.registry.validate import validate_register
from safetynet.tabular import file_digest, find_contract_file, read_table

HOUSEHOLD_FIELDS = ("region_code", "registration", "address", "grid_code", "phone")
PERSON_FIELDS = ("name", "sex", "birth_date")
TIER_FIELDS = ("tier", "support_form", "care_level", "monthly_benefit_fen")


@dataclass
class ImportReport:
    status: str  # loaded | unchanged | rejected
    import_id: int | None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"status": self.status, "import_id": self.import_id, "counts": self.counts,
                "errors": [e.as_dict() for e in self.errors]}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def import_register(
    engine: Engine,
    *,
    directory: Path,
    partial: bool = False,
    as_of: dt.date | None = None,
    actor: str = "cli",
    progress=None,  # noqa: ANN001 - callable(str) for long steps
) -> ImportReport:
    """Import DIR/households.* and DIR/persons.*; raises InputFileError when invalid rows
    exist and `partial` is false (nothing is written then)."""
    say = progress or (lambda _msg: None)
    as_of = as_of or dt.date.today()
    started = _now()
    h_path = find_contract_file(directory, "households")
    p_path = find_contract_file(directory, "persons")
    say("reading files")
    h_file = read_table(h_path, model.HOUSEHOLD_COLUMNS)
    p_file = read_table(p_path, model.PERSON_COLUMNS)
    say("validating rows")
    v = validate_register(h_file, p_file, today=as_of)

    with engine.begin() as conn:
        unknown = regions_service.ensure_villages(
            conn, {h["region_code"] for h in v.households}
        )
        grids = {h["grid_code"]: h["region_code"] for h in v.households if h["grid_code"]}
        regions_service.ensure_grids(conn, grids)
        if unknown:
            bad = {h["household_no"] for h in v.households if h["region_code"] in unknown}
            for h in v.households:
                if h["household_no"] in bad:
                    v.errors.append(RowError(h_path.name, h["line"], "region",
                                             f"{h['region_code']}: county {h['region_code'][:6]} "
                                             "is not a county-level administrative code"))
            v.households = [h for h in v.households if h["household_no"] not in bad]
            v.persons = [p for p in v.persons if p["household_no"] not in bad]
        if v.errors and not partial:
            conn.rollback()
            raise InputFileError(sorted(v.errors, key=lambda e: (e.file, e.line or 0)))

        say("comparing with the register")
        lock_for_import(conn, "registry")
        import_id = conn.execute(
            store.registry_imports.insert().returning(store.registry_imports.c.id),
            {"source": str(directory), "households_digest": file_digest(h_path),
             "persons_digest": file_digest(p_path), "as_of": as_of, "partial": partial,
             "status": "running", "counts": {}, "actor": actor, "started_at": started,
             "finished_at": started},
        ).scalar_one()
        writer = _Writer(conn, import_id, as_of)
        household_ids = writer.households(v.households)
        say("writing persons")
        person_ids = writer.persons(v.persons)
        say("writing membership and tiers")
        writer.memberships(v.persons, household_ids, person_ids)
        writer.tiers(v.persons, household_ids, person_ids)
        counts = writer.counts
        counts["rows"] = {"households": v.household_rows, "persons": v.person_rows,
                          "invalid": len(v.errors)}
        changed = any(n for k, group in counts.items() if k != "rows"
                      for key, n in group.items() if key not in ("unchanged",))
        status = "loaded" if changed else "unchanged"
        conn.execute(
            update(store.registry_imports)
            .where(store.registry_imports.c.id == import_id)
            .values(status=status, counts=counts, finished_at=_now())
        )
    return ImportReport(status, import_id, counts, v.errors)


class _Writer:
    """Writes the differences of one import inside its transaction (bulk driver paths:
    a million-person register must not pay ORM overhead per row)."""

    def __init__(self, conn, import_id: int, as_of: dt.date) -> None:  # noqa: ANN001
        self.conn, self.import_id, self.as_of = conn, import_id, as_of
        self.now = _now()
        self.counts: dict[str, dict[str, int]] = {}

    def _versioned(self, table, versions, key: str, fk: str, rows: list[dict],  # noqa: ANN001
                   fields: tuple[str, ...], name: str) -> dict[str, int]:
        """Insert new rows, update changed ones keeping the old version; return key → id."""
        current = {r[key]: r for r in fetch_by_keys(self.conn, table, key, [r[key] for r in rows])}
        new, changed, unchanged = [], [], 0
        for r in rows:
            old = current.get(r[key])
            if old is None:
                new.append(r)
            elif any(old[f] != r[f] for f in fields):
                changed.append((old, r))
            else:
                unchanged += 1
        ids = {k: r["id"] for k, r in current.items()}
        start = reserve_ids(self.conn, table, len(new))
        records = []
        for i, r in enumerate(new, start=start):
            ids[r[key]] = i
            records.append({"id": i, key: r[key], **{f: r[f] for f in fields}, "version": 1,
                            "import_id": self.import_id, "updated_at": self.now})
        bulk_insert(self.conn, table, records)
        bulk_insert(self.conn, versions, [
            {fk: old["id"], "version": old["version"],
             "data": {f: _jsonable(old[f]) for f in fields}, "import_id": old["import_id"],
             "superseded_at": self.now, "superseded_by_import": self.import_id}
            for old, _ in changed
        ])
        bulk_update(self.conn, table, [
            {"id": old["id"], **{f: r[f] for f in fields}, "version": old["version"] + 1,
             "import_id": self.import_id, "updated_at": self.now}
            for old, r in changed
        ])
        self.counts[name] = {"new": len(new), "changed": len(changed), "unchanged": unchanged}
        return ids

    def households(self, rows: list[dict]) -> dict[str, int]:
        return self._versioned(store.households, store.household_versions, "household_no",
                               "household_id", rows, HOUSEHOLD_FIELDS, "households")

    def persons(self, rows: list[dict]) -> dict[str, int]:
        return self._versioned(store.persons, store.person_versions, "id_number", "person_id",
                               rows, PERSON_FIELDS, "persons")

    def _close(self, table, end_col: str, ids: list[int]) -> None:  # noqa: ANN001
        bulk_update(self.conn, table, [{"id": i, end_col: self.as_of, "ended_by_import": self.import_id}
                                       for i in ids])

    def _open_intervals(self, table, key: str, keys: list[int]) -> dict[int, dict]:  # noqa: ANN001
        end = "valid_to" if "valid_to" in table.c else "until"
        rows = fetch_by_keys(self.conn, table, key, keys, extra_where=f"t.{end} IS NULL")
        return {r["id"]: r for r in rows}

    def _replace(self, table, current: dict, to_open: list[dict], to_close: list[int]) -> list[int]:  # noqa: ANN001
        """End each replaced interval when its successor was granted (if the register gives
        a grant date after the old one), otherwise on the import date (an amount or form
        changed); the successor starts then, so intervals never overlap. Returns the ids
        still to close on the import date."""
        key = "person_id" if "person_id" in table.c else "household_id"
        ended = []
        for new in to_open:
            old = current.get(new[key])
            if old is None:
                continue
            granted_later = new["since"] > old["since"]
            end = min(self.as_of, new["since"]) if granted_later else self.as_of
            new["since"] = end
            ended.append({"id": old["id"], "until": end, "ended_by_import": self.import_id})
        bulk_update(self.conn, table, ended)
        replaced = {e["id"] for e in ended}
        return [i for i in to_close if i not in replaced]

    def memberships(self, rows: list[dict], household_ids: dict, person_ids: dict) -> None:
        m = store.memberships
        wanted = {person_ids[r["id_number"]]: (household_ids[r["household_no"]], r["relation"])
                  for r in rows}
        open_rows = self._open_intervals(m, "person_id", list(wanted))
        # members of the imported households who are no longer listed have left them
        open_rows.update(self._open_intervals(m, "household_id",
                                              list({household_ids[r["household_no"]] for r in rows})))
        current = {r["person_id"]: r for r in open_rows.values()}
        to_close = [r["id"] for pid, r in current.items()
                    if wanted.get(pid) != (r["household_id"], r["relation"])]
        closed = set(to_close)
        to_open = [{"household_id": h, "person_id": pid, "relation": rel,
                    "valid_from": self.as_of, "import_id": self.import_id}
                   for pid, (h, rel) in wanted.items()
                   if pid not in current or current[pid]["id"] in closed]
        self._close(m, "valid_to", to_close)
        bulk_insert(self.conn, m, to_open)
        self.counts["memberships"] = {"opened": len(to_open), "closed": len(to_close),
                                      "unchanged": len(wanted) - len(to_open)}

    def tiers(self, rows: list[dict], household_ids: dict, person_ids: dict) -> None:
        t = store.person_tiers
        wanted = {}
        for r in rows:
            if r["tier"] != model.Tier.none.value:
                wanted[person_ids[r["id_number"]]] = {
                    "household_id": household_ids[r["household_no"]],
                    **{f: r[f] for f in TIER_FIELDS}, "since": r["tier_since"] or self.as_of}
        listed = [person_ids[r["id_number"]] for r in rows]
        current = {r["person_id"]: r for r in self._open_intervals(t, "person_id", listed).values()}
        key = ("household_id", *TIER_FIELDS)
        to_close = [r["id"] for pid, r in current.items()
                    if pid not in wanted or any(wanted[pid][k] != r[k] for k in key)]
        closed = set(to_close)
        to_open = [{"person_id": pid, **w, "import_id": self.import_id}
                   for pid, w in wanted.items()
                   if pid not in current or current[pid]["id"] in closed]
        to_close = self._replace(t, current, to_open, to_close)
        self._close(t, "until", to_close)
        bulk_insert(self.conn, t, to_open)
        self.counts["person_tiers"] = {"opened": len(to_open), "closed": len(to_close),
                                       "unchanged": len(listed) - len(to_open)}
        self._household_tiers(rows, household_ids)

    def _household_tiers(self, rows: list[dict], household_ids: dict) -> None:
        ht = store.household_tiers
        members: dict[int, list[str]] = {}
        heads: dict[int, str] = {}
        for r in rows:
            h = household_ids[r["household_no"]]
            members.setdefault(h, []).append(r["tier"])
            if r["relation"] == "head":
                heads[h] = r["tier"]
        wanted = {h: model.household_tier(ts, heads.get(h)) for h, ts in members.items()}
        current = {r["household_id"]: r
                   for r in self._open_intervals(ht, "household_id", list(wanted)).values()}
        to_close = [r["id"] for h, r in current.items() if wanted.get(h) != r["tier"]]
        # the household's tier dates from the latest grant among the members holding it
        since: dict[int, dt.date] = {}
        for r in rows:
            h = household_ids[r["household_no"]]
            if r["tier_since"] and r["tier"] == wanted[h]:
                since[h] = max(since.get(h, r["tier_since"]), r["tier_since"])
        to_open = [{"household_id": h, "tier": tier, "since": since.get(h, self.as_of),
                    "import_id": self.import_id}
                   for h, tier in wanted.items()
                   if tier != model.Tier.none.value and (h not in current or
                                                        current[h]["tier"] != tier)]
        to_close = self._replace(ht, current, to_open, to_close)
        self._close(ht, "until", to_close)
        bulk_insert(self.conn, ht, to_open)
        self.counts["household_tiers"] = {"opened": len(to_open), "closed": len(to_close),
                                          "unchanged": len(wanted) - len(to_open)}


def _jsonable(v):  # noqa: ANN001, ANN202
    return v.isoformat() if isinstance(v, dt.date) else v


# --- reading back -------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    person_id: int
    name: str  # masked unless unmasked on purpose
    id_number: str  # masked unless unmasked on purpose
    sex: str
    birth_date: dt.date
    relation: str
    tier: str
    since: dt.date | None
    monthly_benefit_fen: int | None


@dataclass(frozen=True)
class HouseholdView:
    household_no: str
    region_code: str
    registration: str
    address: str | None
    grid_code: str | None
    tier: str
    version: int
    members: list[MemberView]


def get_household(engine: Engine, *, household_no: str, unmasked: bool = False,
                  on: dt.date | None = None) -> HouseholdView:
    """A household with its members on a date (default today). Names and id numbers are
    masked unless `unmasked` (the caller is responsible for auditing that read)."""
    on = on or dt.date.today()
    h, m, p, pt, ht = (store.households, store.memberships, store.persons, store.person_tiers,
                       store.household_tiers)
    with engine.connect() as conn:
        row = conn.execute(select(h).where(h.c.household_no == household_no)).mappings().first()
        if row is None:
            raise NotFoundError(f"household {household_no} is not in the register")
        live_m = and_(m.c.valid_from <= on, (m.c.valid_to.is_(None)) | (m.c.valid_to > on))
        live_t = and_(pt.c.person_id == p.c.id, pt.c.since <= on,
                      (pt.c.until.is_(None)) | (pt.c.until > on))
        q = (
            select(p.c.id, p.c.name, p.c.id_number, p.c.sex, p.c.birth_date, m.c.relation,
                   pt.c.tier, pt.c.since, pt.c.monthly_benefit_fen)
            .join(m, m.c.person_id == p.c.id)
            .outerjoin(pt, live_t)
            .where(m.c.household_id == row["id"], live_m)
            .order_by(m.c.relation != "head", p.c.birth_date)
        )
        members = [
            MemberView(r.id, r.name if unmasked else identity.mask_name(r.name),
                       r.id_number if unmasked else identity.mask_id_number(r.id_number),
                       r.sex, r.birth_date, r.relation, r.tier or model.Tier.none.value,
                       r.since, r.monthly_benefit_fen)
            for r in conn.execute(q)
        ]
        tier = conn.execute(
            select(ht.c.tier).where(ht.c.household_id == row["id"], ht.c.since <= on,
                                    (ht.c.until.is_(None)) | (ht.c.until > on))
        ).scalar()
    return HouseholdView(row["household_no"], row["region_code"], row["registration"],
                         row["address"], row["grid_code"], tier or model.Tier.none.value,
                         row["version"], members)


def tier_counts(engine: Engine, *, on: dt.date | None = None) -> dict[str, int]:
    """Persons per current tier (for the summary after an import and the home page)."""
    from sqlalchemy import func

    on = on or dt.date.today()
    pt = store.person_tiers
    with engine.connect() as conn:
        rows = conn.execute(
            select(pt.c.tier, func.count()).where(pt.c.since <= on,
                                                  (pt.c.until.is_(None)) | (pt.c.until > on))
            .group_by(pt.c.tier)
        )
        return {tier: n for tier, n in rows}


def list_imports(engine: Engine, *, limit: int = 20) -> list[dict]:
    """The import ledger, newest first: who imported what, when, with which outcome."""
    ri = store.registry_imports
    with engine.connect() as conn:
        rows = conn.execute(select(ri).order_by(ri.c.id.desc()).limit(limit)).mappings()
        return [dict(r) for r in rows]


OVERLAPPING_ENROLMENTS = pa.schema([("id_number", pa.string()), ("household_id", pa.int64()),
                                    ("other_household_id", pa.int64()), ("since", pa.date32())])


def overlapping_enrolments(engine: Engine, *, on: dt.date, tiers: tuple[str, ...],
                           within_days: int = 365) -> pa.Table:
    """People whose enrolment (a tier in `tiers`) current on `on` overlaps an enrolment of theirs in
    another household — both current, or a second region enrolled them from a date before the first
    enrolment ended — when that other enrolment is still current or ended within `within_days` (an
    overlap put right long ago is history, not a warning). An ordinary move closes the old enrolment
    on the day the new one starts, so it does not overlap."""
    n, o, p = store.person_tiers.alias("n"), store.person_tiers.alias("o"), store.persons
    query = (select(p.c.id_number, n.c.household_id, o.c.household_id, n.c.since)
             .select_from(n.join(o, and_(o.c.person_id == n.c.person_id, o.c.id != n.c.id))
                          .join(p, p.c.id == n.c.person_id))
             .where(n.c.tier.in_(tiers), o.c.tier.in_(tiers), o.c.household_id != n.c.household_id,
                    n.c.since <= on, or_(n.c.until.is_(None), n.c.until > on),
                    # each pair once, `o` the earlier enrolment (the lower id when both start the same day)
                    or_(o.c.since < n.c.since, and_(o.c.since == n.c.since, o.c.id < n.c.id)),
                    or_(o.c.until.is_(None), o.c.until > n.c.since),
                    or_(o.c.until.is_(None), o.c.until > on - dt.timedelta(days=within_days))))
    with engine.connect() as conn:
        rows = conn.execute(query).all()  # few: a rectification target, not a population
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in OVERLAPPING_ENROLMENTS]
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, OVERLAPPING_ENROLMENTS, strict=True)],
                    schema=OVERLAPPING_ENROLMENTS)
