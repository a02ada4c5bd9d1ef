"""Record linkage of quarantined feed rows (docs/contracts/feeds.md): a row whose id_number is
missing or invalid is matched to a registry person on name, birth date, region, sex, the
mistyped id number and (hotline) the phone.

`link_quarantine` scores every unresolved row awaiting linkage. Each candidate gets the
probability that it is the row's person given all the row's candidates
(`model.row_posteriors`); the chance that the person is not in the register at all comes
from the feed itself: the share of its rows with a valid id whose person is registered
(`register_shares`). The best candidate at or above `threshold_auto` is linked at once;
else, when the row's person is at least `threshold_review` likely to be among its (at most
MAX_CANDIDATES) candidates, they go to the clerical review queue (`link_candidates`); the
rest stay quarantined with "no match in the register" (retried on the next run, as the
register grows). A candidate rejected in review is left out, and the others renormalised.

A linked row becomes usable downstream like any accepted row: it is written to the lake
as an extra Parquet for its feed and month (`link-<load>-<key>.parquet`, with `linked_by`
and `match_probability` columns), registered in `feed_lake_files` under the load it came
in (so `feeds.service.lake_files` lists it), with its original content digest as its
record index entry (a re-delivery of the same row is then a duplicate), and counted as
`linked`/`accepted` on that load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from safetynet.db import lock_for_import
from safetynet.errors import SafetynetError
from safetynet.feeds import service as feeds
from safetynet.feeds import store as feeds_store
from safetynet.feeds import validate
from safetynet.feeds.model import FEED_BY_NAME, LINKAGE_REASON
from safetynet.linkage import model
from safetynet.linkage.store import link_candidates
from safetynet.registry import store as reg

AWAITING = f"id_number: {LINKAGE_REASON}"
NO_MATCH = "no match in the register"
IN_REVIEW = "linkage: candidates awaiting clerical review"
MAX_CANDIDATES = 5
CANDIDATE_FLOOR = 0.01  # a candidate less likely than this is not worth a clerk's look
# The register share of a feed is measured on its newest lake files, up to this many rows.
SHARE_SAMPLE_ROWS = 1_000_000


class CandidateError(SafetynetError):
    """A review decision on a candidate that does not exist or was already decided."""


@dataclass
class LinkReport:
    rows: int = 0  # unresolved rows considered
    linked: int = 0  # auto-linked now
    review: int = 0  # rows sent to the review queue
    no_match: int = 0
    model_trained: bool = False
    links: list[dict] = field(default_factory=list)  # quarantine_id, record_id, feed, id_number, p

    def as_dict(self) -> dict:
        return {"rows": self.rows, "linked": self.linked, "review": self.review,
                "no_match": self.no_match, "model_trained": self.model_trained}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_model_path() -> Path:
    from safetynet.config import get_settings

    return get_settings().data_dir / "linkage" / "model.json"


def default_lake_dir() -> Path:
    from safetynet.config import get_settings

    return get_settings().data_dir / "lake"


# --- reading both sides ---------------------------------------------------------------

def registry_persons(conn: Connection) -> tuple[pa.Table, dict[str, dict]]:
    """Every person as a linkage record (region: the current household's), plus uid → person."""
    p, m, h = reg.persons, reg.memberships, reg.households
    current = (select(m.c.person_id, func.max(h.c.region_code).label("region"),
                      func.max(h.c.phone).label("phone"))
               .join(h, h.c.id == m.c.household_id).where(m.c.valid_to.is_(None))
               .group_by(m.c.person_id).subquery())
    q = (select(p.c.id, p.c.id_number, p.c.name, p.c.sex, p.c.birth_date, current.c.region,
                current.c.phone)
         .outerjoin(current, current.c.person_id == p.c.id).order_by(p.c.id))
    records, people = [], {}
    for r in conn.execute(q).mappings():
        uid = f"p{r['id']}"
        records.append(model.record(uid, r["name"], r["birth_date"], r["sex"], r["region"], r["id_number"],
                                    r["phone"]))
        people[uid] = {"person_id": r["id"], "id_number": r["id_number"]}
    return model.to_table(records), people


def _pending_rows(conn: Connection, load_ids: list[int] | None = None) -> list[dict]:
    q = feeds_store.quarantine
    in_review = select(link_candidates.c.quarantine_id).where(link_candidates.c.status == "pending")
    sel = select(q).where(q.c.resolved_at.is_(None),
                          or_(q.c.reason == AWAITING, q.c.reason.like(f"{NO_MATCH}%")),
                          q.c.id.not_in(in_review)).order_by(q.c.id)
    if load_ids is not None:
        sel = sel.where(q.c.load_id.in_(load_ids))
    return [dict(r) for r in conn.execute(sel).mappings()]


def _row_record(qrow: dict) -> dict:
    row = qrow["row"] if isinstance(qrow["row"], dict) else json.loads(qrow["row"])
    return model.record(f"q{qrow['id']}", row.get("name"), row.get("birth_date"), None,
                        row.get("region"), row.get("id_number"), row.get("phone"))


def _rejected_pairs(conn: Connection) -> set[tuple[int, int]]:
    c = link_candidates.c
    return {(r[0], r[1]) for r in conn.execute(
        select(c.quarantine_id, c.person_id).where(c.status == "rejected"))}


def register_shares(conn: Connection, feed_names: set[str], persons: pa.Table,
                    lake_dir: Path) -> dict[str, float]:
    """π per feed: of the feed's rows that arrived with a valid id number (its newest lake
    files, up to SHARE_SAMPLE_ROWS rows), the share whose person is in the register; as
    (k + 1) / (n + 2), so a feed with few rows starts near one half, the pair model's own
    implicit assumption. Rows awaiting linkage are taken to come from the same people."""
    ids = pa.table({"id_number": persons.column("id_number")}).filter(
        pc.is_valid(persons.column("id_number")))
    con = duckdb.connect()
    try:
        con.register("ids", ids)
        shares = {}
        for feed in sorted(feed_names):
            files, rows = [], 0
            for f in reversed(feeds_store.registered_files(conn, feed)):
                if f["kind"] == "linkage":  # rows we linked ourselves would bias it upwards
                    continue
                files.append(feeds.resolve_lake_file(f["path"], lake_dir, feed))
                rows += f["rows"]
                if rows >= SHARE_SAMPLE_ROWS:
                    break
            n = k = 0
            if files:
                listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
                n, k = con.execute(
                    "SELECT count(*), count(*) FILTER (WHERE id_number IN (SELECT id_number FROM ids)) "
                    f"FROM read_parquet([{listed}], union_by_name = true)").fetchone()
            shares[feed] = (k + 1) / (n + 2)
    finally:
        con.close()
    return shares


# --- the run --------------------------------------------------------------------------

def train(engine: Engine, *, model_path: Path | None = None, sample: int = 5000) -> model.TrainResult:
    """(Re)train the model on the current register and save it."""
    with engine.connect() as conn:
        persons, _ = registry_persons(conn)
    return model.train_model(persons, model_path or default_model_path(), sample=sample)


def link_quarantine(engine: Engine, *, model_path: Path | None = None, threshold_auto: float = 0.99,
                    threshold_review: float = 0.5, lake_dir: Path | None = None,
                    actor: str = "linkage", load_ids: list[int] | None = None,
                    train_if_missing: bool = True) -> LinkReport:
    """Score the unresolved rows awaiting linkage (all, or those of the given loads). Without
    a saved model one is trained on the register first, unless `train_if_missing` is off
    (then nothing is linked)."""
    if not 0 < threshold_review <= threshold_auto <= 1:
        raise ValueError("thresholds must satisfy 0 < review <= auto <= 1")
    model_path = Path(model_path or default_model_path())
    lake_dir = Path(lake_dir or default_lake_dir())
    report = LinkReport()
    with engine.connect() as conn:
        rows = _pending_rows(conn, load_ids)
        report.rows = len(rows)
        if not rows:
            return report
        persons, people = registry_persons(conn)
        rejected = _rejected_pairs(conn)
    decisions: dict[int, list[tuple[float, dict]]] = {r["id"]: [] for r in rows}
    if persons.num_rows >= 2:
        if not model_path.is_file():
            if not train_if_missing:
                report.rows = 0
                return report
            model.train_model(persons, model_path)
            report.model_trained = True
        _, meta = model.load_model(model_path)
        with engine.connect() as conn:
            shares = register_shares(conn, {r["feed"] for r in rows}, persons, lake_dir)
        scored = model.predict(model_path, persons, model.to_table([_row_record(r) for r in rows]))
        pairs: dict[int, list[dict]] = {r["id"]: [] for r in rows}
        for pair in scored:
            qid = int(pair["row_uid"][1:])
            person = people[pair["person_uid"]]
            if (qid, person["person_id"]) not in rejected:  # known not to be the row's person
                pairs[qid].append(pair | person)
        feed_of = {r["id"]: r["feed"] for r in rows}
        for qid, cands in pairs.items():
            rest = model.not_in_register_odds(shares[feed_of[qid]], meta["unscored_share"])
            decisions[qid] = model.row_posteriors(cands, rest)
    by_id = {r["id"]: r for r in rows}
    auto, review, none = [], [], []
    for qid, ranked in decisions.items():
        shown = [(p, c) for p, c in ranked[:MAX_CANDIDATES] if p >= CANDIDATE_FLOOR]
        if shown and shown[0][0] >= threshold_auto:
            auto.append((by_id[qid], shown[0][1] | {"match_probability": shown[0][0]}))
        elif shown and sum(p for p, _ in shown) >= threshold_review:
            review.append((qid, [c | {"match_probability": p} for p, c in shown]))
        else:
            none.append(qid)
    now = _now()
    with engine.begin() as conn:
        q = feeds_store.quarantine
        if none:
            conn.execute(update(q).where(q.c.id.in_(none)).values(reason=NO_MATCH))
        for qid, cands in review:
            conn.execute(update(q).where(q.c.id == qid).values(reason=IN_REVIEW))
            conn.execute(insert(link_candidates), [
                {"quarantine_id": qid, "person_id": c["person_id"],
                 "match_probability": float(c["match_probability"]),
                 "match_weight": float(c["match_weight"]), "rank": k + 1, "status": "pending",
                 "created_at": now} for k, c in enumerate(cands)])
        _link(conn, auto, lake_dir, actor, "auto")
    report.linked, report.review, report.no_match = len(auto), len(review), len(none)
    report.links = [{"quarantine_id": r["id"], "feed": r["feed"], "record_id": r["record_id"],
                     "id_number": c["id_number"], "match_probability": c["match_probability"]}
                    for r, c in auto]
    return report


# --- linking: resolve, lake, record index, ledger counts --------------------------------

def _link(conn: Connection, pairs: list[tuple[dict, dict]], lake_dir: Path, actor: str, how: str) -> None:
    """Resolve quarantine rows as linked to persons, inside the caller's transaction."""
    if not pairs:
        return
    now = _now()
    written: list[Path] = []
    try:
        groups: dict[int, list[tuple[dict, dict]]] = {}
        for qrow, cand in pairs:
            groups.setdefault(qrow["load_id"], []).append((qrow, cand))
        for load_id, group in groups.items():
            written.append(_link_load(conn, load_id, group, lake_dir, actor, how, now))
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


def _link_load(conn: Connection, load_id: int, group: list[tuple[dict, dict]], lake_dir: Path,
               actor: str, how: str, now: dt.datetime) -> Path:
    loads, q = feeds_store.feed_loads, feeds_store.quarantine
    load = conn.execute(select(loads).where(loads.c.id == load_id)).mappings().one()
    feed = FEED_BY_NAME[load["feed"]]
    lock_for_import(conn, f"feeds:{feed.name}")  # the lake of a feed has one writer at a time
    raw_rows = []
    for qrow, cand in group:
        row = dict(qrow["row"] if isinstance(qrow["row"], dict) else json.loads(qrow["row"]))
        row["id_number"] = cand["id_number"]
        raw_rows.append(row)
    names = list(dict.fromkeys(k for r in raw_rows for k in r))
    raw = pa.table({k: pa.array([None if r.get(k) is None else str(r[k]) for r in raw_rows], pa.string())
                    for k in names})
    checked = validate.check(feed, raw)
    bad = checked.bad_mask(raw.num_rows)
    if bad.any():  # cannot happen for rows whose only fault was the id; refuse rather than guess
        raise SafetynetError(f"linked rows of load {load_id} still fail the {feed.name} contract")

    # versions: a record_id already in the lake (an earlier version) is superseded
    record_ids = [qrow["record_id"] for qrow, _ in group]
    old = _current_versions(conn, feed.name, record_ids, lake_dir)
    versions = np.array([old.get(r, 0) + 1 for r in record_ids], dtype=np.int32)
    lines = np.array([qrow["line"] for qrow, _ in group], dtype=np.int64)
    digests = pa.array([qrow["content_digest"] for qrow, _ in group], pa.string())
    out = feeds.lake_table(checked.typed, None, digests=digests, version=versions, load_id=load_id,
                           lines=lines)
    out = out.append_column("linked_by", pa.array([how] * len(group), pa.string()))
    out = out.append_column("match_probability", pa.array(
        [float(cand["match_probability"]) for _, cand in group], pa.float64()))
    key = hashlib.sha256(",".join(str(qrow["id"]) for qrow, _ in group).encode()).hexdigest()[:16]
    target = lake_dir / feed.name / f"month={load['month']}" / f"link-{load_id}-{key}.parquet"
    feeds.write_lake_file(out, target)
    feeds.register_lake_file(conn, load_id=load_id, feed=feed.name, month=load["month"], kind="linkage",
                             path=target, rows=len(group))
    for qrow, cand in group:
        resolution = {"linked": True, "how": how, "person_id": cand["person_id"],
                      "id_number": cand["id_number"],
                      "match_probability": round(float(cand["match_probability"]), 6),
                      "lake_file": target.name}
        conn.execute(update(q).where(q.c.id == qrow["id"]).values(
            resolved_at=now, resolved_by=actor, resolution=json.dumps(resolution, ensure_ascii=False)))
    k = len(group)
    conn.execute(update(loads).where(loads.c.id == load_id).values(
        accepted=loads.c.accepted + k, linked=loads.c.linked + k, quarantined=loads.c.quarantined - k))
    return target


def _current_versions(conn: Connection, feed: str, record_ids: list[str], lake_dir: Path) -> dict[str, int]:
    files = feeds.committed_files(conn, feed, lake_dir)
    if not files:
        return {}
    con = duckdb.connect()
    try:
        con.register("wanted", pa.table({"record_id": pa.array(record_ids, pa.string())}))
        rows = con.execute(f"SELECT p.record_id, p.v FROM ({feeds.prior_versions_sql(files)}) p "
                           "JOIN (SELECT DISTINCT record_id FROM wanted) w USING (record_id)").fetchall()
    finally:
        con.close()
    return {r: int(v) for r, v in rows}


# --- the clerical review queue ----------------------------------------------------------

def list_candidates(engine: Engine, *, status: str = "pending", limit: int = 50, offset: int = 0) -> dict:
    c, q, p = link_candidates.c, feeds_store.quarantine, reg.persons
    where = c.status == status
    sel = (select(c.id, c.quarantine_id, c.person_id, c.match_probability, c.match_weight, c.rank,
                  c.status, c.created_at, c.decided_at, c.decided_by, q.c.feed, q.c.record_id, q.c.row,
                  p.c.id_number.label("person_id_number"), p.c.name.label("person_name"),
                  p.c.birth_date.label("person_birth_date"))
           .join(q, q.c.id == c.quarantine_id).join(p, p.c.id == c.person_id)
           .where(where).order_by(c.quarantine_id, c.rank).limit(limit).offset(offset))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(link_candidates).where(where)).scalar_one()
        items = []
        for r in conn.execute(sel).mappings():
            item = dict(r)
            item["row"] = item["row"] if isinstance(item["row"], dict) else json.loads(item["row"])
            for k in ("created_at", "decided_at", "person_birth_date"):
                item[k] = item[k].isoformat() if item[k] is not None else None
            items.append(item)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def _candidate(conn: Connection, candidate_id: int) -> dict:
    row = conn.execute(select(link_candidates).where(link_candidates.c.id == candidate_id)
                       .with_for_update()).mappings().first()
    if row is None:
        raise CandidateError(f"no link candidate {candidate_id}")
    if row["status"] != "pending":
        raise CandidateError(f"link candidate {candidate_id} is already {row['status']}")
    return dict(row)


def accept(engine: Engine, candidate_id: int, actor: str, *, lake_dir: Path | None = None) -> dict:
    """Link the candidate's quarantined row to its person; the row's other candidates are
    superseded."""
    lake_dir = Path(lake_dir or default_lake_dir())
    c = link_candidates.c
    with engine.begin() as conn:
        cand = _candidate(conn, candidate_id)
        qrow = dict(conn.execute(select(feeds_store.quarantine).where(
            feeds_store.quarantine.c.id == cand["quarantine_id"])).mappings().one())
        id_number = conn.execute(select(reg.persons.c.id_number).where(
            reg.persons.c.id == cand["person_id"])).scalar_one()
        now = _now()
        conn.execute(update(link_candidates).where(c.id == candidate_id).values(
            status="accepted", decided_at=now, decided_by=actor))
        conn.execute(update(link_candidates).where(
            c.quarantine_id == cand["quarantine_id"], c.status == "pending").values(
            status="superseded", decided_at=now, decided_by=actor))
        _link(conn, [(qrow, cand | {"id_number": id_number})], lake_dir, actor, "review")
    return {"candidate_id": candidate_id, "status": "accepted", "quarantine_id": cand["quarantine_id"],
            "id_number": id_number}


def reject(engine: Engine, candidate_id: int, actor: str) -> dict:
    """Reject one candidate; when none of the row's candidates is left pending, the row stays
    quarantined with "no match in the register"."""
    c = link_candidates.c
    with engine.begin() as conn:
        cand = _candidate(conn, candidate_id)
        now = _now()
        conn.execute(update(link_candidates).where(c.id == candidate_id).values(
            status="rejected", decided_at=now, decided_by=actor))
        left = conn.execute(select(func.count()).select_from(link_candidates).where(
            and_(c.quarantine_id == cand["quarantine_id"], c.status == "pending"))).scalar_one()
        if not left:
            q = feeds_store.quarantine
            conn.execute(update(q).where(q.c.id == cand["quarantine_id"]).values(
                reason=f"{NO_MATCH} (candidates rejected in review)"))
    return {"candidate_id": candidate_id, "status": "rejected", "quarantine_id": cand["quarantine_id"],
            "pending_left": left}


# --- scoring against the synthetic truth -------------------------------------------------

def score(engine: Engine, truth_dir: Path) -> dict:
    """Precision and recall of links against truth/bad_ids.parquet: a link is correct when
    its id_number equals true_id_number. Recall is over the truth rows that were quarantined
    awaiting linkage and whose true person is in the register (the linkable ones)."""
    truth = pq.read_table(Path(truth_dir) / "bad_ids.parquet").to_pylist()
    true_id = {(t["feed"], t["record_id"]): t["true_id_number"] for t in truth}
    q = feeds_store.quarantine
    with engine.connect() as conn:
        quarantined = [dict(r) for r in conn.execute(select(q.c.feed, q.c.record_id, q.c.resolution))
                       .mappings()]
        registered = {r[0] for r in conn.execute(select(reg.persons.c.id_number))}
        c = link_candidates.c
        proposed = {(r[0], r[1], r[2]) for r in conn.execute(
            select(q.c.feed, q.c.record_id, reg.persons.c.id_number)
            .join(link_candidates, c.quarantine_id == q.c.id)
            .join(reg.persons, reg.persons.c.id == c.person_id)
            .where(c.status == "pending"))}
    links = {}
    for r in quarantined:
        res = json.loads(r["resolution"]) if r["resolution"] else {}
        if res.get("linked"):
            links[(r["feed"], r["record_id"])] = res
    auto = {k: v for k, v in links.items() if v.get("how") == "auto"}
    in_truth = [k for k in auto if k in true_id]
    correct = sum(auto[k]["id_number"] == true_id[k] for k in in_truth)
    linkable = [k for k in {(r["feed"], r["record_id"]) for r in quarantined}
                if k in true_id and true_id[k] in registered]
    found = sum(1 for k in linkable if k in auto and auto[k]["id_number"] == true_id[k])
    in_review = sum(1 for k in linkable if (*k, true_id[k]) in proposed)
    return {"auto_links": len(auto), "auto_links_in_truth": len(in_truth), "correct": correct,
            "precision": correct / len(auto) if auto else 1.0,
            "linkable": len(linkable), "recall": found / len(linkable) if linkable else 1.0,
            "in_review_with_true_candidate": in_review,
            "recall_with_review": (found + in_review) / len(linkable) if linkable else 1.0,
            "linked_total": len(links), "quarantined_rows": len(quarantined)}
