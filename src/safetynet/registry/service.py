"""Registry use cases: import a register delivery; read households back.

Import (docs/contracts/registry.md) is one transaction: validate both files completely,
then write the differences against the store. Unchanged rows are not touched, so
re-importing the same files changes nothing; a changed row bumps its version and the
old content goes to the *_versions table; membership and tier changes close the open
interval and open a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Engine, and_, or_, select, update

from safetynet import identity
from safetynet.db import bulk_insert, bulk_update, fetch_by_keys, lock_for_import, reserve_ids
from safetynet.errors import InputFileError, NotFoundError, RowError, SafetynetError
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


# --- changes from applications (one household at a time, inside the caller's transaction) ----------


class RegisterConflict(SafetynetError):
    """A change the register cannot take as asked; `field` names the input at fault."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.field, self.message_zh = field, message_zh


def _ledger_entry(conn: Connection, *, source: str, as_of: dt.date, actor: str, content: object) -> int:
    """One row of the import ledger for a change that came from a use case, not from files: the
    intervals it opens and closes point at it (their history), `source` says what made it."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    now = _now()
    return conn.execute(store.registry_imports.insert().returning(store.registry_imports.c.id), {
        "source": source, "households_digest": digest, "persons_digest": digest, "as_of": as_of,
        "partial": False, "status": "loaded", "counts": {}, "actor": actor[:64], "started_at": now,
        "finished_at": now}).scalar_one()


def open_household(conn: Connection, *, household: dict, members: list[dict], as_of: dt.date, actor: str,
                   source: str) -> dict:
    """Open a household the register does not hold yet, with its members, from `as_of`, inside the
    caller's transaction and as one entry of the import ledger (`source`: what opened it, e.g. an
    application): the household, its persons and their memberships, no tier (an approval opens one).
    `household`: household_no, region_code, registration, address, grid_code, phone; `members`:
    id_number, name, sex, birth_date, relation (checked by the caller, one head). RegisterConflict when
    the number is taken, a member is already in the register (they move through their household's
    record, not here) or the village's county is unknown. Returns {"household_id", "person_ids":
    {id_number: person id}, "registry_import_id"}."""
    lock_for_import(conn, "registry")
    h, p, m = store.households, store.persons, store.memberships
    no = household["household_no"]
    if conn.execute(select(h.c.id).where(h.c.household_no == no)).first() is not None:
        raise RegisterConflict("household_id", f"household {no} is already in the register: apply for it "
                               "without members, or give the new household another number",
                               f"户号 {no} 已在名册中：如为该户申请请勿填写成员；如为新户请另编户号")
    numbers = [x["id_number"] for x in members]
    known = dict(conn.execute(
        select(p.c.id_number, h.c.household_no)
        .select_from(p.outerjoin(m, and_(m.c.person_id == p.c.id, m.c.valid_to.is_(None)))
                     .outerjoin(h, h.c.id == m.c.household_id))
        .where(p.c.id_number.in_(numbers))).all())
    for i, number in enumerate(numbers):
        if number in known:
            where = f" (household {known[number]})" if known[number] else ""
            raise RegisterConflict(f"members[{i}].id_number",
                                   f"{identity.mask_id_number(number)} is already in the register{where}: a "
                                   "person belongs to one household; apply for that household or change the "
                                   "register first",
                                   f"成员 {i + 1} 的身份证号已在名册中{where}，一人只能属于一户")
    region = household["region_code"]
    if regions_service.ensure_villages(conn, {region}):
        raise RegisterConflict("household.region", f"{region}: county {region[:6]} is not a county-level "
                               "administrative code", f"行政区划代码 {region} 所在县级区划不存在")
    if household.get("grid_code"):
        regions_service.ensure_grids(conn, {household["grid_code"]: region})
    import_id = _ledger_entry(conn, source=source, as_of=as_of, actor=actor,
                              content={"household": household, "members": members})
    writer = _Writer(conn, import_id, as_of)
    rows = [{"household_no": no, "tier": model.Tier.none.value, "tier_since": None, "support_form": None,
             "care_level": None, "monthly_benefit_fen": None, **x} for x in members]
    household_ids = writer.households([{f: household.get(f) for f in ("household_no", *HOUSEHOLD_FIELDS)}])
    person_ids = writer.persons(rows)
    writer.memberships(rows, household_ids, person_ids)
    conn.execute(update(store.registry_imports).where(store.registry_imports.c.id == import_id)
                 .values(counts=writer.counts, finished_at=_now()))
    return {"household_id": household_ids[no], "person_ids": person_ids, "registry_import_id": import_id}


def open_enrolment(conn: Connection, *, household_id: int, persons: list[dict], starts_on: dt.date,
                   actor: str, source: str) -> dict:
    """Enrol members of a household in a tier from `starts_on` (an approval: the first day of the month
    after the decision), inside the caller's transaction and as one entry of the import ledger: a
    person's current tier interval ends on `starts_on` and the new one begins then; the household's
    tier follows its members (model.household_tier). History is the intervals and the ledger entry.
    `persons`: [{person_id, tier, monthly_benefit_fen, care_level?, support_form?}], members of the
    household on `starts_on`. Returns {"registry_import_id", "counts"}."""
    lock_for_import(conn, "registry")
    h, p, m, pt = store.households, store.persons, store.memberships, store.person_tiers
    no = conn.execute(select(h.c.household_no).where(h.c.id == household_id)).scalar_one()
    members = conn.execute(
        select(p.c.id, p.c.id_number, m.c.relation)
        .join(m, m.c.person_id == p.c.id)
        .where(m.c.household_id == household_id, m.c.valid_from <= starts_on,
               or_(m.c.valid_to.is_(None), m.c.valid_to > starts_on))).all()
    by_id = {r.id: r for r in members}
    wanted = {x["person_id"]: x for x in persons}
    outside = sorted(set(wanted) - set(by_id))
    if outside:
        raise RegisterConflict("persons", f"person(s) {outside} are not members of household {no} on "
                               f"{starts_on}", f"所列人员在 {starts_on} 不是本户成员")
    current = {r.person_id: r for r in conn.execute(
        select(pt).where(pt.c.person_id.in_(list(by_id)), pt.c.until.is_(None)))}
    rows = []
    for pid, r in by_id.items():
        row = {"household_no": no, "id_number": r.id_number, "relation": r.relation}
        if pid in wanted:
            w = wanted[pid]
            row |= {"tier": w["tier"], "tier_since": starts_on, "support_form": w.get("support_form"),
                    "care_level": w.get("care_level"), "monthly_benefit_fen": w.get("monthly_benefit_fen")}
        elif pid in current:  # unchanged: the tier they hold
            c = current[pid]
            row |= {"tier_since": c.since, **{f: getattr(c, f) for f in TIER_FIELDS}}
        else:
            row |= {"tier": model.Tier.none.value, "tier_since": None,
                    **dict.fromkeys(TIER_FIELDS[1:])}
        rows.append(row)
    import_id = _ledger_entry(conn, source=source, as_of=starts_on, actor=actor,
                              content={"household_id": household_id, "persons": persons})
    writer = _Writer(conn, import_id, starts_on)
    writer.tiers(rows, {no: household_id}, {r.id_number: pid for pid, r in by_id.items()})
    conn.execute(update(store.registry_imports).where(store.registry_imports.c.id == import_id)
                 .values(counts=writer.counts, finished_at=_now()))
    return {"registry_import_id": import_id, "counts": writer.counts}


def persons_brief(conn: Connection, person_ids: list[int]) -> dict[int, dict]:
    """id → {name, id_number} of persons (unmasked: the caller masks what it shows)."""
    p = store.persons
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    return {r.id: {"name": r.name, "id_number": r.id_number}
            for r in conn.execute(select(p.c.id, p.c.name, p.c.id_number).where(p.c.id.in_(ids)))}
