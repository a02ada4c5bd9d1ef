"""Verification use cases: record, list and revoke a family's authorisation; build the
economic-condition verification report of one household from the lake; assess it.

The report reads only what the family authorised (model.SCOPE_FEEDS of the scopes valid on
the report date) plus the status feeds, and only the household's members' rows: each feed's
committed lake files (as the batch facts choose them: delivered for months up to M) are
queried in DuckDB filtered to the members' id_numbers, with corrections resolved (a record's
highest version wins, also when the correction moved it to another person).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, insert, select, update

from safetynet.analytics import service as analytics_service
from safetynet.analytics.facts import INCOME_ITEMS, month_window
from safetynet.errors import NotFoundError
from safetynet.identity import mask_id_number, mask_name
from safetynet.registry import lookup as registry_lookup
from safetynet.registry import service as registry_service
from safetynet.registry.model import REGISTRATION_LABELS
from safetynet.verification import model, store
from safetynet.verification import sections as tr

# --- authorisations -------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _row_to_auth(r: Any, household_no: str) -> model.Authorisation:
    def aware(t: dt.datetime | None) -> dt.datetime | None:
        return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t

    return model.Authorisation(
        id=r.id, household_no=household_no, signed_on=r.signed_on, scope=tuple(r.scope),
        valid_until=r.valid_until, signer_name=r.signer_name, document_ref=r.document_ref,
        recorded_by=r.recorded_by, recorded_at=aware(r.recorded_at), revoked_at=aware(r.revoked_at),
        revoked_by=r.revoked_by)


def authorise(engine: Engine, *, household_no: str, signed_on: dt.date, scope: str | Iterable[str],
              signer_name: str, document_ref: str, valid_until: dt.date | None = None, actor: str,
              today: dt.date | None = None) -> model.Authorisation:
    """Record a family's signed authorisation. Recording the same one again (household,
    signed date, scope, document, validity) returns the existing record and changes nothing."""
    today = today or dt.date.today()
    scopes = model.parse_scope(scope)
    if signed_on > today:
        raise model.VerificationInputError("signed", f"the signing date cannot be in the future "
                                                     f"(today is {today.isoformat()}); got {signed_on}")
    if valid_until is not None and valid_until < signed_on:
        raise model.VerificationInputError("valid_until", f"must be on or after the signing date "
                                                          f"{signed_on.isoformat()}; got {valid_until}")
    signer_name, document_ref = (signer_name or "").strip(), (document_ref or "").strip()
    if not signer_name or len(signer_name) > 64:
        raise model.VerificationInputError("signer", "the name of the family member who signed, "
                                                     "1–64 characters")
    if not document_ref or len(document_ref) > 255:
        raise model.VerificationInputError("document", "the reference of the signed authorisation (e.g. its "
                                                       "archive number or scan file), 1–255 characters")
    hid = registry_lookup.household_id(engine, household_no=household_no)
    t = store.verification_authorisations
    with engine.begin() as conn:
        for r in conn.execute(select(t).where(t.c.household_id == hid, t.c.signed_on == signed_on,
                                              t.c.document_ref == document_ref, t.c.revoked_at.is_(None))):
            if tuple(r.scope) == scopes and r.valid_until == valid_until and r.signer_name == signer_name:
                return _row_to_auth(r, household_no)
        new_id = conn.execute(insert(t).returning(t.c.id), {
            "household_id": hid, "signed_on": signed_on, "scope": list(scopes), "valid_until": valid_until,
            "signer_name": signer_name, "document_ref": document_ref, "recorded_by": actor,
            "recorded_at": _now()}).scalar_one()
        r = conn.execute(select(t).where(t.c.id == new_id)).one()
    return _row_to_auth(r, household_no)


def list_authorisations(engine: Engine, *, household_no: str) -> list[model.Authorisation]:
    """A household's authorisations, newest signing first (revoked ones included)."""
    hid = registry_lookup.household_id(engine, household_no=household_no)
    t = store.verification_authorisations
    with engine.connect() as conn:
        q = select(t).where(t.c.household_id == hid).order_by(t.c.signed_on.desc(), t.c.id.desc())
        rows = conn.execute(q)
        return [_row_to_auth(r, household_no) for r in rows]


def revoke(engine: Engine, *, household_no: str, authorisation_id: int, actor: str) -> model.Authorisation:
    """Revoke an authorisation (from now on it no longer allows a verification). Revoking a
    revoked one changes nothing."""
    hid = registry_lookup.household_id(engine, household_no=household_no)
    t = store.verification_authorisations
    with engine.begin() as conn:
        r = conn.execute(select(t).where(t.c.id == authorisation_id, t.c.household_id == hid)).first()
        if r is None:
            raise NotFoundError(f"household {household_no} has no authorisation {authorisation_id}")
        if r.revoked_at is None:
            conn.execute(update(t).where(t.c.id == authorisation_id).values(revoked_at=_now(),
                                                                            revoked_by=actor))
            r = conn.execute(select(t).where(t.c.id == authorisation_id)).one()
    return _row_to_auth(r, household_no)


def authorisation_view(a: model.Authorisation, *, on: dt.date | None = None) -> dict:
    """For display: the signer's name masked."""
    on = on or dt.date.today()
    st = a.status(on)
    return {"id": a.id, "household_no": a.household_no, "signed_on": a.signed_on.isoformat(),
            "scope": list(a.scope), "scope_labels": [model.SCOPES[s] for s in a.scope],
            "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            "signer": mask_name(a.signer_name), "document_ref": a.document_ref,
            "recorded_by": a.recorded_by, "recorded_at": a.recorded_at.isoformat(),
            "revoked_at": a.revoked_at.isoformat() if a.revoked_at else None, "revoked_by": a.revoked_by,
            "status": st, "status_label": model.STATUS_LABELS[st]}


# --- the lake, for one household ------------------------------------------------------------


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_feed(con: duckdb.DuckDBPyConnection, engine: Engine, feed: str, *, lake_dir: Path, month: str,
               ids: list[str]) -> list[dict]:
    """The current version of every record of `feed` about one of `ids`, each with `_feed`
    and `_file` (its lake file).

    One equality scan per member (DuckDB prunes row groups by their min/max statistics on an
    equality, not on an IN list), then one scan of (record_id, version) restricted to
    `version > 1` (corrections are rare, so most row groups are skipped) to drop rows a later
    correction replaced, also when the correction moved the record to another person."""
    files = [str(p) for p in analytics_service.feed_files(engine, feed, lake_dir=lake_dir, month=month)]
    if not files or not ids:
        return []
    src = "read_parquet($files, union_by_name = true, filename = true, hive_partitioning = false)"
    sql = " UNION ALL ".join(f"SELECT * FROM {src} WHERE id_number = {_literal(i)}" for i in ids)
    cur = con.execute(sql, {"files": files})
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    top: dict[str, int] = {}
    for r in rows:
        top[r["record_id"]] = max(top.get(r["record_id"], 0), r.get("version") or 1)
    if top:
        listed = ", ".join(_literal(k) for k in top)
        newer = con.execute("SELECT record_id, max(version) FROM read_parquet($files, union_by_name = true, "
                            f"hive_partitioning = false) WHERE version > 1 AND record_id IN ({listed}) "
                            "GROUP BY record_id", {"files": files}).fetchall()
        for rid, v in newer:
            top[rid] = max(top[rid], v)
    current = [r | {"_feed": feed, "_file": r["filename"]} for r in rows
               if (r.get("version") or 1) == top[r["record_id"]]]
    return sorted(current, key=lambda r: (r["id_number"], r["record_id"]))


def _months_observed(con: duckdb.DuckDBPyConnection, engine: Engine, *, lake_dir: Path, month: str) -> int:
    """Months of the 12 to M for which the social_insurance feed holds any row (as the facts)."""
    files = [str(p) for p in analytics_service.feed_files(engine, "social_insurance", lake_dir=lake_dir,
                                                          month=month)]
    if not files:
        return 1
    _, _, first, label = month_window(month)
    sql = ("SELECT count(DISTINCT month) FROM read_parquet(?, union_by_name = true, "
           "hive_partitioning = false) WHERE month BETWEEN ? AND ?")
    n = con.execute(sql, [files, first, label]).fetchone()[0]
    return max(int(n or 0), 1)


def _counted_items(on: dt.date) -> dict[str, dict]:
    """Whether each income item counts, with the rules parameter's reference."""
    from safetynet.rules.system import get_system

    system = get_system()
    values = system.get_parameters_at_instant(on.isoformat()).income.counted
    out = {}
    for item in INCOME_ITEMS:
        node = system.parameters.income.counted.children[item]
        refs = (node.metadata or {}).get("reference") or []
        out[item] = {"counted": bool(values[item]),
                     "reference": "; ".join(r.get("title", "") for r in refs if isinstance(r, dict)),
                     "parameter": f"income.counted.{item}"}
    return out


def _edge_expenditure_type(on: dt.date) -> bool:
    from safetynet.rules.system import get_system

    return bool(get_system().get_parameters_at_instant(on.isoformat()).edge.expenditure_type)


ASSESS_DEFAULTS_NOTE = ("自理能力、法定赡抚扶养人、服刑、重病、康复及生活支出无部门数据，按评估接口默认值 "
                        "(self-care, supporter, prison, critical illness, rehabilitation and living costs "
                        "have no feed: the assess contract's defaults apply)")


def default_month(on: dt.date) -> str:
    """The last complete month before `on`."""
    last = on.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def report(engine: Engine, *, household_no: str, lake_dir: Path, actor: str, month: str | None = None,
           scope: str | Iterable[str] | None = None, on: dt.date | None = None) -> dict:
    """The verification report of a household for the 12 months to `month` (default: the last
    complete month), as of the report date `on` (default today). Refuses (NotAuthorisedError)
    unless the authorisations valid on `on` cover `scope` (default model.MIN_SCOPE); shows
    every authorised kind, and nothing else."""
    on = on or dt.date.today()
    month = model.parse_month(month) if month is not None else default_month(on)
    requested = model.parse_scope(scope) if scope is not None else model.MIN_SCOPE
    auths = list_authorisations(engine, household_no=household_no)
    allowed = model.check_authorised(auths, household_no=household_no, on=on, requested=requested)
    shown = tuple(s for s in model.SCOPES if s in allowed)
    _, end, first, label = month_window(month)
    if end > on:
        raise model.VerificationInputError("month", f"must be a month already ended on the report date "
                                                    f"{on.isoformat()}; got {month}")
    household = registry_service.get_household(engine, household_no=household_no, unmasked=True, on=end)
    if not household.members:
        raise model.VerificationInputError("month", f"household {household_no} had no members on "
                                                    f"{end.isoformat()}; choose a later month")
    ids = [m.id_number for m in household.members]
    feeds = [f for s in shown for f in model.SCOPE_FEEDS[s]] + list(model.STATUS_FEEDS)
    con = duckdb.connect(config={"memory_limit": analytics_service.MEMORY_LIMIT})
    try:
        lake = Path(lake_dir)
        rows = {f: _read_feed(con, engine, f, lake_dir=lake, month=label, ids=ids) for f in feeds}
        observed = _months_observed(con, engine, lake_dir=lake, month=label) if "income" in shown else 1
    finally:
        con.close()
    counted = _counted_items(end)
    members = []
    for i, m in enumerate(household.members):
        mine = {f: [r for r in rs if r["id_number"] == m.id_number] for f, rs in rows.items()}
        members.append(tr.member_section(
            key=f"m{i + 1}", member={"name": mask_name(m.name), "id_number": mask_id_number(m.id_number),
                                     "sex": m.sex, "birth_date": m.birth_date, "relation": m.relation},
            rows=mine, month=label, counted=counted, months_observed=observed, lake_dir=Path(lake_dir)))
    out = {
        "household_no": household.household_no, "region_code": household.region_code,
        "registration": household.registration,
        "registration_label": REGISTRATION_LABELS.get(household.registration, household.registration),
        "month": label, "window": {"first_month": first, "last_month": label, "end": end.isoformat()},
        "report_date": on.isoformat(), "generated_by": actor, "generated_at": _now().isoformat(),
        "authorisations": [authorisation_view(a, on=on) for a in auths if a.status(on) == "valid"],
        "scope": list(shown), "scope_labels": {s: model.SCOPES[s] for s in shown},
        "not_authorised": [s for s in model.SCOPES if s not in allowed],
        "months_observed": observed,
        "members": members,
    }
    out["totals"] = tr.totals(members, shown=shown, counted=counted,
                              edge_expenditure_type=_edge_expenditure_type(end))
    out["assess_input"] = tr.assess_input(out, as_of=end)
    out["assess_gaps"] = [f"{s}: {model.SCOPES[s]} 未授权，按 0 计 (not authorised: taken as 0)"
                          for s in out["not_authorised"]] + [ASSESS_DEFAULTS_NOTE]
    return out


def assess(engine: Engine, *, report: dict) -> dict:
    """The rules engine's assessment of the report's household, from its data alone (local
    standards from the store, as `safetynet assess` does)."""
    from safetynet.rules import service as rules_service
    from safetynet.standards.service import store_lookup

    return rules_service.assess(report["assess_input"], standards_lookup=store_lookup(engine))

