"""What a monitor run reads, prepared once and shared by every indicator.

- `people`: everyone in the register on the month's last day, one row per person: id_number,
  person_id, household_id, household_no, region_code, relation, birth_date, `tier` (the person's
  enrolment, else the household's, else "none") — the population a rule watches is decided on it.
- `feed(name)`: a feed's lake rows delivered up to the month, each record at its latest version.
  `feed(name, reported=True)`: the same with `reported_now`, true when the record was first delivered
  in M — every version of it read is from M's delivery (a file's delivery month is its lake folder's,
  the load ledger's month) — and the feed delivered before M (a feed's first delivery is its backlog,
  not late reports). An event dated before M but reported now is news in M (`latest_reported`).
- `income`: per person, counted income over the 12 months to M (`income_12m_fen`), in M
  (`income_month_fen`, null without a row that month) and `rows_by_month`, the person's rows in
  each window month packed as 5-bit counters (month M−k in bits 5k…5k+4: `month_has_rows`).
  Narrow on purpose: every extra sum is another 16-byte state per earner, and at 10M persons a
  12-column pivot spilled DuckDB to disk (23 s against 4 s). A rule wanting another window sums it
  itself (`window_income`), once per run.
- `delivered`: which of those 12 months the social-insurance feed delivered at all (a person without
  a row in a delivered month earned nothing that month; in a month not delivered nothing is known).
- `household_income`: members' counted income over the 12 months, per household.
- `assessment`: the batch assessment's results (the rules engine) for the months of the window.
- `tier_moves`: current enrolments overlapping an enrolment of the same person in another household
  (registry.service.overlapping_enrolments).

Counted income follows analytics.facts (docs/policy.md §3): wages, pensions (except the resident scheme's
basic pension) and unemployment benefit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from safetynet.analytics.facts import RESIDENT_PENSION_MARK

WINDOW_MONTHS = 12
MONTH_BITS = 5  # bits per month in `rows_by_month`


def month_labels(month: str, count: int = WINDOW_MONTHS) -> list[str]:
    """[M, M−1, …] as YYYY-MM, `count` of them."""
    y, m = int(month[:4]), int(month[5:7])
    out = []
    for k in range(count):
        yy, mm = divmod(y * 12 + (m - 1) - k, 12)
        out.append(f"{yy:04d}-{mm + 1:02d}")
    return out


@dataclass
class Inputs:
    month: str
    first: dt.date  # the month's first day
    end: dt.date  # its last day: the day the register and "active" records are taken
    window_start: dt.date  # the first day of the 12-month window (analytics.facts.month_window)
    labels: list[str]  # the 12 window months, M first
    people: ir.Table
    feed: Callable[..., ir.Table]  # feed(name, reported=False)
    income: ir.Table  # id_number, income_12m_fen, income_month_fen, rows_by_month
    delivered: list[bool]  # per label: social insurance delivered that month
    household_income: ir.Table
    assessment: ir.Table  # month, household_id, tier, registered_tier, change, per_capita_income_fen, ...
    tier_moves: ir.Table  # id_number, household_id, other_household_id, since
    keep: Callable[[str, ir.Table], ir.Table] = lambda _name, t: t  # the backend's materialize
    notes: list[str] = field(default_factory=list)
    _shared: dict[str, ir.Table] = field(default_factory=dict)

    def shared(self, name: str, build: Callable[[], ir.Table]) -> ir.Table:
        """An intermediate table two indicators both read (e.g. the medical costs behind the month's
        and the 12 months' ratios), computed once per run."""
        if name not in self._shared:
            self._shared[name] = self.keep(f"mon_{name}", build())
        return self._shared[name]


def latest_reported(rows: ir.Table) -> ir.Table:
    """Each record's latest version, with `reported_now` true only when every version of the record
    read is marked (from M's delivery): a correction in M of a record delivered before is not news.
    Like analytics.facts.latest_versions, only corrected records are looked at apart; a record's
    earliest delivery needs all its versions, so those records' rows are found first (a semi join
    against the few corrected ids) and aggregated."""
    ids = rows.filter(rows.version > 1).select("record_id").distinct()
    versions = rows.semi_join(ids, "record_id")
    top = versions.group_by(_rid=versions.record_id).aggregate(
        _top=versions.version.max(), _marked=versions.reported_now.cast("int64").min())
    t = rows.left_join(top, rows.record_id == top._rid)
    t = t.filter(t._top.isnull() | (t.version == t._top))
    reported = t._top.isnull().ifelse(t.reported_now, t._marked == 1)
    return t.mutate(reported_now=reported).drop("_rid", "_top", "_marked")


def people_table(persons: ir.Table, households: ir.Table) -> ir.Table:
    """The register's people with their household's place and the tier a rule's population is
    decided on."""
    h = households.select("household_id", "household_no", "region_code",
                          household_tier=households.registered_tier)
    t = persons.left_join(h, "household_id").drop("household_id_right")
    tier = t.registered_tier.fill_null(t.household_tier).fill_null("none")
    return t.select("id_number", "person_id", "household_id", "household_no", "region_code", "relation",
                    "birth_date", tier=tier)


def counted_income_rows(si: ir.Table, labels: list[str]) -> ir.Table:
    """Social-insurance rows of the window that are counted income, with `k`: months before M."""
    s = si.filter(si.month.isin(labels))
    resident = s.employer.fill_null("").contains(RESIDENT_PENSION_MARK)
    s = s.filter(~((s.kind == "pension") & resident))
    y, m = int(labels[0][:4]), int(labels[0][5:7])
    row_index = s.month.substr(0, 4).cast("int64") * 12 + s.month.substr(5, 2).cast("int64")
    return s.mutate(k=(y * 12 + m) - row_index)


def income_table(si: ir.Table, labels: list[str]) -> ir.Table:
    """Counted income per person (see the module docstring)."""
    s = counted_income_rows(si, labels)
    return s.group_by("id_number").aggregate(
        income_12m_fen=s.amount_fen.sum(), income_month_fen=s.amount_fen.sum(where=s.k == 0),
        # a sum, not a bit_or: Ibis's Spark compiler has no bit_or; 12 months × 5 bits fit an int64 and
        # a person has far fewer than 32 counted rows in a month (one per employer, pension, benefit)
        # (a cast, not a typed literal: Spark reads a bare 1 as a 32-bit int and shifts it modulo 32)
        rows_by_month=(ibis.literal(1).cast("int64") << (s.k * MONTH_BITS)).sum())


def month_has_rows(rows_by_month: ir.IntegerValue, k: int) -> ir.IntegerValue:
    """1 when the person has a counted-income row in month M−k, else 0."""
    return (((rows_by_month >> (k * MONTH_BITS)) & (2 ** MONTH_BITS - 1)) > 0).cast("int64")


def window_income(si: ir.Table, labels: list[str], months: list[int]) -> ir.Table:
    """Counted income per person over the window months `months` (k values)."""
    s = counted_income_rows(si, labels)
    s = s.filter(s.k.isin(months))
    return s.group_by("id_number").aggregate(income_fen=s.amount_fen.sum())


def delivered_months(si: ir.Table, labels: list[str]) -> ir.Table:
    s = si.filter(si.month.isin(labels))
    return s.select("month").distinct()


def household_income_table(people: ir.Table, income: ir.Table) -> ir.Table:
    """Members' counted income over the 12 months, and the member count, per household."""
    i = income.select("id_number", "income_12m_fen")
    p = people.left_join(i, "id_number")
    return p.group_by("household_id").aggregate(
        household_income_12m_fen=p.income_12m_fen.fill_null(0).sum(), members=p.count())



