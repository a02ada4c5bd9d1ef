"""Hand-made minimal data for the monitoring engine's rule tests: a tiny register, feed files in the
delivery contract's CSV form (docs/contracts/feeds.md), batch-assessment rows, one monitor run, and
the warnings a rule raised in a month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import count
from pathlib import Path

import yaml
from sqlalchemy import Engine, insert, select

from safetynet.assessment import store as assessment_store
from safetynet.feeds import service as feeds_service
from safetynet.feeds.model import FEED_BY_NAME
from safetynet.monitoring.catalogue import PACKAGED, Catalogue, load_catalogue
from safetynet.monitoring.service import run_month
from safetynet.monitoring.warnings import list_warnings
from safetynet.registry import service as registry_service
from safetynet.registry import store as registry_store
from tests.factories import VILLAGE, make_id, write_csv, write_register

MONTH = "2025-03"  # the month under test: window 2024-04 … 2025-03
AS_OF = dt.date(2025, 1, 1)  # the register's import date
SINCE = "2024-01-01"  # enrolment date of every enrolled test person
CATALOGUE = load_catalogue(PACKAGED)
VILLAGE2 = "370402001002"  # another demo village of the same county

_seq = iter(range(100, 1000))


def person_id(birth: str = "1970-01-01", prefix: str = "370402") -> str:
    """A fresh valid identity number (each call a new 3-digit order code)."""
    return make_id(birth, next(_seq), prefix=prefix)


# --- the register ---------------------------------------------------------------------------------

class Household:
    """One household of the register: `add` members (the first is the head)."""

    def __init__(self, no: str, tier: str = "", region: str = VILLAGE) -> None:
        self.no, self.tier, self.region = no, tier, region
        self.members: list[tuple[str, str, str, str, str]] = []  # id, name, birth, relation, tier

    def add(self, birth: str = "1970-01-01", *, name: str = "张三", relation: str | None = None,
            tier: str | None = None) -> str:
        pid = person_id(birth)
        relation = relation or ("head" if not self.members else "child")
        self.members.append((pid, name, birth, relation, self.tier if tier is None else tier))
        return pid


def register(engine: Engine, tmp_path: Path, households: list[Household], *, as_of: dt.date = AS_OF) -> None:
    rows_h = [[h.no, h.region, "rural", "", "", ""] for h in households]
    rows_p = [[h.no, pid, name, "", birth, rel, tier, SINCE if tier else "", "", "", ""]
              for h in households for pid, name, birth, rel, tier in h.members]
    d = write_register(tmp_path / "reg", rows_h, rows_p)
    registry_service.import_register(engine, directory=d, as_of=as_of)


def household_id(engine: Engine, no: str) -> int:
    h = registry_store.households
    with engine.connect() as c:
        return c.execute(select(h.c.id).where(h.c.household_no == no)).scalar_one()


def person_pk(engine: Engine, id_number: str) -> int:
    p = registry_store.persons
    with engine.connect() as c:
        return c.execute(select(p.c.id).where(p.c.id_number == id_number)).scalar_one()


# --- feeds ----------------------------------------------------------------------------------------

def write_feed(directory: Path, feed: str, yyyymm: str, rows: list[dict[str, str]]) -> Path:
    """`<feed>_<yyyymm>.csv` with the contract's columns the rows use (record_id, id_number and name
    always), in contract order."""
    used = {"record_id", "id_number", "name"} | {k for r in rows for k in r}
    names = [c.name for c in FEED_BY_NAME[feed].all_columns]
    unknown = used - set(names)
    assert not unknown, f"{feed} has no column(s) {unknown}"
    header = [n for n in names if n in used]
    return write_csv(directory / f"{feed}_{yyyymm}.csv", header,
                     [[str(r.get(n, "")) if n != "name" else r.get(n, "张三") for n in header] for r in rows])


def ingest(engine: Engine, feeds_dir: Path, lake_dir: Path) -> None:
    reports = feeds_service.ingest(engine, paths=[feeds_dir], lake_dir=lake_dir, actor="test")
    bad = [r.as_dict() for r in reports if r.status != "loaded" or r.quarantined]
    assert not bad, bad


class Feeds:
    """Feed rows collected per file (feed, delivery month YYYYMM), written and ingested at once."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        self._n = count(1)

    def add(self, feed: str, id_number: str, delivered: str = MONTH.replace("-", ""), **columns: str) -> str:
        """One row of `feed` about `id_number` in the file delivered for month `delivered`; returns
        its record_id."""
        record_id = columns.pop("record_id", None) or f"{feed[:3].upper()}{next(self._n):04d}"
        self.files[(feed, delivered)].append({"record_id": record_id, "id_number": id_number, **columns})
        return record_id

    def wage(self, id_number: str, month: str, amount: str, **columns: str) -> str:
        """A social-insurance wage row of `month` (YYYY-MM), delivered that month."""
        return self.add("social_insurance", id_number, month.replace("-", ""), month=month, kind="wage",
                        amount=amount, **columns)

    def ingest(self, engine: Engine, tmp_path: Path) -> Path:
        d = tmp_path / "feeds"
        for (feed, delivered), rows in self.files.items():
            write_feed(d, feed, delivered, rows)
        if self.files:
            ingest(engine, d, tmp_path / "lake")
        return tmp_path / "lake"


# --- batch assessment ------------------------------------------------------------------------------

def assessment_run(engine: Engine, month: str, results: list[dict], *, status: str = "completed") -> int:
    """An assessment run of `month` with result rows {household_id, change, per_capita_income_fen,
    dibao_standard_fen, registered_tier, tier}, written straight to the store."""
    y, m = int(month[:4]), int(month[5:7])
    as_of = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as c:
        run = c.execute(insert(assessment_store.assessment_runs).values(
            month=month, as_of=as_of, region=None, status=status, started_at=now, finished_at=now,
            actor="test", households=len(results), persons=len(results), changed=len(results),
            monthly_benefit_fen=0, summary={}, provenance={}, timings={})).inserted_primary_key[0]
        for r in results:
            c.execute(insert(assessment_store.assessment_results).values(
                run_id=run, household_no="H", county_code=VILLAGE[:6], region_code=VILLAGE,
                benefit_fen=0, **{"tier": "none", "registered_tier": "dibao",
                                  "per_capita_income_fen": 120_000, "dibao_standard_fen": 94_100, **r}))
    return run


# --- running and reading back ----------------------------------------------------------------------

def run(engine: Engine, tmp_path: Path, month: str = MONTH, catalogue: Catalogue | None = None) -> dict:
    return run_month(engine, month=month, lake_dir=tmp_path / "lake", actor="test",
                     catalogue=catalogue or CATALOGUE)


def fired(engine: Engine, rule: str, month: str = MONTH) -> dict[str, dict]:
    """id_number → the warning of `rule` that fired in `month` (list_warnings' row)."""
    items = list_warnings(engine, month=month, rule=rule, page_size=None)["items"]
    out = {w["id_number"]: w for w in items}
    assert len(out) == len(items), f"{rule}: one person warned twice in {month}"
    return out


def catalogue_with(tmp_path: Path, edit) -> Catalogue:  # noqa: ANN001
    """The packaged catalogue with `edit(raw)` applied to its parsed YAML, loaded from a file."""
    raw = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_catalogue(path)


def rule_of(raw: dict, rule_id: str) -> dict:
    return next(r for r in raw["rules"] if r["id"] == rule_id)
