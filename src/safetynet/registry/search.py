"""Read side of the register for the caseworker's screens: search, household and person detail.

Every query takes the caller's region scope (a region code: province/city/county/township/
village as 2–12 digits, or a 14-digit grid) and filters in SQL, so nothing outside the scope
is ever read. A region subtree is the index range [prefix, next prefix) on
`households.region_code` (codes are digits only, so this is a plain B-tree range on SQLite
and PostgreSQL in any collation). Names and id numbers are masked here; unmasked and
sensitive reads are separate functions, and the caller (api) audits them.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union,
)

from safetynet import identity
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.regions import store as regions_store
from safetynet.regions.model import LEVEL_LABELS_ZH, Level, short_code
from safetynet.registry import model, store

MAX_PAGE_SIZE = 200
# Search counts matches only up to this many (a province-wide search may match hundreds of
# thousands of households; counting them all costs more than the page itself) and pages only
# through them: beyond it the caseworker narrows the search instead.
TOTAL_CAP = 10_000
SENSITIVE_FIELDS = ("monthly_benefit_fen", "support_form", "care_level")

_h, _p, _m = store.households, store.persons, store.memberships
_pt, _ht = store.person_tiers, store.household_tiers
_LAST4 = re.compile(r"^[0-9]{3}[0-9X]$")
_ID18 = re.compile(r"^[0-9]{17}[0-9X]$")


class InvalidQuery(SafetynetError):
    """A search parameter is malformed; `field` names it, messages in English and Chinese."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.field = field
        self.message_zh = message_zh


@dataclass(frozen=True)
class _PathRow:
    name: str
    level: str


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int  # at most TOTAL_CAP; `total_capped` says there are more
    page: int
    page_size: int
    total_capped: bool = False
    # searched by a whole identity number (`id_number`, or `q` shaped as one): the caller audits
    # it, as finding whether a given person is registered reads personal data
    by_full_id_number: bool = False

    def as_dict(self) -> dict:
        return {"items": self.items, "total": self.total, "total_capped": self.total_capped,
                "page": self.page, "page_size": self.page_size}


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """The caller's connection (its transaction: e.g. the audit row of a sensitive read
    commits with it), or a connection of its own from an engine. That one reads outside a
    transaction: each statement sees committed data just as in READ COMMITTED, without the
    BEGIN and ROLLBACK round trips (as many as the statements of a search)."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


@contextmanager
def _planned_for_its_values(conn: Connection) -> Iterator[None]:
    """Send the statements inside unprepared on PostgreSQL. psycopg prepares a statement after
    a few runs, and PostgreSQL then soon plans it once for any values (a generic plan); a
    search's best plan depends on the values (a rare name: find the persons first; a whole
    province without a filter: walk the households in order), and a generic plan for a rare
    name walked every household of the province: 0.2 s at 200,000 persons instead of 1 ms."""
    if conn.dialect.name != "postgresql":
        yield
        return
    driver = conn.connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


# --- scope ---------------------------------------------------------------------------------


def scope_prefix(code: str) -> str:
    """The significant digits of a region code (12-digit codes shortened; grids kept whole)."""
    code = code.strip()
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12, 14):
        raise InvalidQuery("region", f"region must be a 2/4/6/9/12-digit administrative code or a "
                           f"14-digit grid code, got {code!r}",
                           "行政区划代码应为 2/4/6/9/12 位数字（网格为 14 位）")
    return short_code(code) if len(code) == 12 else code


def _next_prefix(prefix: str) -> str | None:
    """The smallest digit string of the same length above every code starting with prefix."""
    if set(prefix) == {"9"}:
        return None
    return str(int(prefix) + 1).zfill(len(prefix))


def region_condition(code: str, region_col=_h.c.region_code, grid_col=_h.c.grid_code):  # noqa: ANN001, ANN201
    """SQL condition: the household lies in the region's subtree (a grid: that grid)."""
    prefix = scope_prefix(code)
    if len(prefix) == 14:
        return grid_col == prefix
    upper = _next_prefix(prefix)
    if upper is None:
        return region_col >= prefix
    return and_(region_col >= prefix, region_col < upper)


def household_in_scope(region_code: str, grid_code: str | None, scope: str) -> bool:
    prefix = scope_prefix(scope)
    if len(prefix) == 14:
        return grid_code == prefix
    return region_code.startswith(prefix)


def scoped_household(conn: Connection, household_no: str, scope: str):  # noqa: ANN201
    """The household (id, region_code, grid_code) with this register number in the scope, or None
    when there is none or it lies outside (callers answer both alike)."""
    row = conn.execute(select(_h.c.id, _h.c.region_code, _h.c.grid_code)
                       .where(_h.c.household_no == household_no)).first()
    if row is None or not household_in_scope(row.region_code, row.grid_code, scope):
        return None
    return row


def narrower(scope: str, region: str | None) -> str | None:
    """The region filter within the scope: the narrower of the two, or None when the
    requested region lies outside the scope (the caller answers 404, as for a missing one)."""
    s = scope_prefix(scope)
    if not region:
        return s
    r = scope_prefix(region)
    if r.startswith(s):
        return r
    if len(s) == 14 and len(r) < 14 and s.startswith(r):
        return s  # a grid worker asking for their own village or above: still only their grid
    return None


# --- validation ----------------------------------------------------------------------------


def _check_page(page: int, page_size: int) -> None:
    if page < 1:
        raise InvalidQuery("page", f"page is 1-based, got {page}", "页码从 1 开始")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQuery("page_size", f"page_size must be 1–{MAX_PAGE_SIZE}, got {page_size}",
                           f"每页条数应为 1–{MAX_PAGE_SIZE}")
    if (page - 1) * page_size >= TOTAL_CAP:
        raise InvalidQuery("page", f"only the first {TOTAL_CAP:,} matches can be paged through "
                           f"(page {page} of {page_size} starts after them); narrow the search by "
                           "region, tier, name or id number",
                           f"最多可翻阅前 {TOTAL_CAP} 条结果，请按区划、类别、姓名或身份证号缩小范围")


def _id_value(raw: str) -> tuple[str, str]:
    """("full" or "last4", the normalised value) of an id number search term."""
    value = identity.normalize(raw)
    if _ID18.match(value):
        return "full", value
    if _LAST4.match(value):
        return "last4", value
    raise InvalidQuery("id_number", "id_number must be the full 18-character number or its last 4 "
                       f"characters (digits, last may be X), got {len(value)} characters",
                       "身份证号应为完整 18 位或后 4 位")


def _id_condition(kind: str, param: str):  # noqa: ANN202
    if kind == "full":
        return _p.c.id_number == bindparam(param)
    # the expression of the ix_persons_id_last4 index, with its numbers written into the SQL
    last4 = func.substr(_p.c.id_number, literal_column("15"), literal_column("4"), type_=String)
    return last4 == bindparam(param)


def _name_values(raw: str, dialect: str, param: str) -> dict[str, str]:
    """The bound values of a name search (see `_name_condition`)."""
    name = "".join(raw.split())
    after = _after_prefix(name)
    if not name or len(name) > 64 or any(c in name for c in "%_*?[]\\") or after is None:
        raise InvalidQuery("name", "name must be 1–64 characters without wildcards (exact name or "
                           "its beginning, e.g. 张 or 张建)", "姓名应为 1–64 个字符，可只输入开头（如“张”）")
    if dialect == "sqlite":
        return {param: name + "*"}
    return {f"{param}_from": name, f"{param}_to": after}


def _after_prefix(prefix: str) -> str | None:
    """The least string above every string starting with `prefix` in code point order (which
    is UTF-8 byte order); None when there is none."""
    while prefix:
        point = ord(prefix[-1]) + 1
        if point <= 0x10FFFF:
            return prefix[:-1] + chr(0xE000 if 0xD800 <= point <= 0xDFFF else point)  # no surrogates
        prefix = prefix[:-1]
    return None


def _name_condition(param: str, dialect: str):  # noqa: ANN202
    """SQL: the name starts with the bound name. Both forms are index range scans. SQLite: GLOB
    on a BINARY index (its LIKE is case-insensitive and would not use the index). PostgreSQL:
    the range [name, `_after_prefix(name)`) in byte order (the operators of the pattern-ops
    index), which is what it makes of `LIKE 'name%'` anyway, but planned in half the time:
    estimating a LIKE tests the pattern against each of the 10,000 most common names
    (statistics target of persons.name) and histogram bounds, ~3.4 ms a search at 1M persons,
    against ~1.5 ms for the range. The values are sent unprepared (`_planned_for_its_values`),
    so the planner sees them."""
    if dialect == "sqlite":
        return _p.c.name.op("GLOB")(bindparam(param))
    return and_(_p.c.name.op("~>=~")(bindparam(f"{param}_from", type_=String)),
                _p.c.name.op("~<~")(bindparam(f"{param}_to", type_=String)))


def _tier_value(tier: str) -> str:
    if tier not in model.TIER_LABELS or tier == model.Tier.none.value:
        valid = ", ".join(t for t in model.TIER_LABELS if t != model.Tier.none.value)
        valid_zh = "、".join(label for t, label in model.TIER_LABELS.items() if t != "none")
        raise InvalidQuery("tier", f"tier must be one of {valid}, got {tier!r}",
                           f"救助类别无效，可选：{valid_zh}")
    return tier


# --- search --------------------------------------------------------------------------------
# A search is one of a few hundred shapes (which criteria, of which kind); each shape's
# statements are built once and run with the values bound. Building them per request (the
# aliases copy every column of persons and memberships) cost more CPU than the rest of the
# request together (py-spy at 1M persons, 2026-11-30).

_r = regions_store.regions
_head_m, _head_p = _m.alias("head_m"), _p.alias("head_p")
_counted_m, _shown_ht, _current_ht = _m.alias("counted_m"), _ht.alias("shown_ht"), _ht.alias("current_ht")


def _head(households, column):  # noqa: ANN001, ANN202
    """SQL: a column of the household's current head, for each row of a search page."""
    return (select(_head_p.c[column.name]).join(_head_m, _head_m.c.person_id == _head_p.c.id)
            .where(_head_m.c.household_id == households.c.id, _head_m.c.valid_to.is_(None),
                   _head_m.c.relation == "head")
            .limit(1).scalar_subquery())


def _item_columns(households) -> tuple:  # noqa: ANN001
    """A page of search results with each household's region name, tier, head and size in the
    same statement. They are subqueries rather than joins so that they run (by index) only for
    the page's rows after sorting, not for every match (a name shared by 1,500 persons at 1M).
    `households` is the table or the matches selected from it."""
    h = households.c
    return (
        h.id, h.household_no, h.region_code, h.registration,
        select(_r.c.name).where(_r.c.code == h.region_code).scalar_subquery().label("region_name"),
        select(_shown_ht.c.tier).where(_shown_ht.c.household_id == h.id, _shown_ht.c.until.is_(None))
        .limit(1).scalar_subquery().label("tier"),
        _head(households, _p.c.name).label("head_name"),
        _head(households, _p.c.id_number).label("head_id_number"),
        select(func.count()).where(_counted_m.c.household_id == h.id, _counted_m.c.valid_to.is_(None))
        .scalar_subquery().label("members"),
    )


def _search_shape(*, within: str, name: str | None, id_number: str | None, q: str | None,
                  tier: str | None, dialect: str) -> tuple[tuple, dict]:
    """(the search's shape, the values to bind): validates every criterion."""
    params: dict = {"region_lo": within}
    if len(within) == 14:
        region = "grid"
    elif (upper := _next_prefix(within)) is None:
        region = "from"
    else:
        region, params["region_hi"] = "range", upper
    by_name = bool(name and name.strip())
    if by_name:
        params |= _name_values(name, dialect, "name")
    id_kind = None
    if id_number and id_number.strip():
        id_kind, params["id_value"] = _id_value(id_number)
    free = None
    if q and q.strip():
        free = _free_text_shape(q.strip(), dialect, params)
    tier_kind = None
    if tier:
        params["tier"] = _tier_value(tier)
        tier_kind = "lookup" if len(within) >= 6 else "semi-join"
    return (dialect, region, by_name, id_kind, free, tier_kind), params


_statements: dict[tuple, tuple[Select, Select, Select]] = {}
_building = threading.Lock()


def _search_statements(shape: tuple, dialect: Dialect) -> tuple[Select, Select, Select]:
    """(counted page, count of all matches, page from the ordered index) for a shape, built on
    first use. One thread builds and compiles them before any other sees them: SQLAlchemy fills
    some parts of a construct in on first use (the aliases' column collections), and threads
    doing that at once left them broken ("Can't determine which FROM clause to join from",
    reproduced with 8 threads building their first searches together)."""
    found = _statements.get(shape)
    if found is None:
        with _building:
            found = _statements.get(shape)
            if found is None:
                found = _build_search_statements(shape)
                for statement in found:
                    statement.compile(dialect=dialect)
                _statements[shape] = found
    return found


def _build_search_statements(shape: tuple) -> tuple[Select, Select, Select]:
    dialect, region, by_name, id_kind, free, tier_kind = shape
    conds = [_h.c.grid_code == bindparam("region_lo") if region == "grid"
             else _h.c.region_code >= bindparam("region_lo")]
    if region == "range":
        conds.append(_h.c.region_code < bindparam("region_hi"))
    person_conds = []
    if by_name:
        person_conds.append(_name_condition("name", dialect))
    if id_kind:
        person_conds.append(_id_condition(id_kind, "id_value"))
    if person_conds:
        conds.append(_h.c.id.in_(_members_where(and_(*person_conds))))
    if free:
        conds.append(_free_text(free, dialect))
    if tier_kind:
        conds.append(_tier_condition(tier_kind))
    where = and_(*conds)
    limit, offset = bindparam("page_size", type_=Integer), bindparam("page_offset", type_=Integer)
    # Most searches match a few hundred households at most: one statement finds the matches
    # (up to one past the cap), counts them and sorts out the page. The cap tells "exactly
    # 10,000" from "more"; with more, the first of them are not the first in order, so the
    # page comes from the ordered index instead (cheap then: matches are dense).
    matched = select(_h.c.id, _h.c.household_no, _h.c.region_code, _h.c.registration).where(where) \
        .limit(TOTAL_CAP + 1).subquery("matched")
    counted_page = (select(*_item_columns(matched), func.count().over().label("total"))
                    .order_by(matched.c.region_code, matched.c.household_no).limit(limit).offset(offset))
    count_all = select(func.count()).select_from(matched)
    ordered_page = (select(*_item_columns(_h)).where(where).order_by(_h.c.region_code, _h.c.household_no)
                    .limit(limit).offset(offset))
    return counted_page, count_all, ordered_page


def search_households(
    bind: Engine | Connection, *, scope: str, q: str | None = None, name: str | None = None,
    id_number: str | None = None, region: str | None = None, tier: str | None = None,
    page: int = 1, page_size: int = 20,
) -> Page:
    """Households in the scope matching every given criterion, by village then household
    number (the `ix_households_region_no` index order: a region's page needs no sort).

    `name` matches any current member, exactly or by its beginning; `id_number` is a full
    number or the last 4 characters; `region` narrows the scope; `tier` is the household's
    current tier; `q` is free text: household number, name, or id number by its shape.
    Matches are counted up to TOTAL_CAP (`total_capped` when there are more).
    """
    _check_page(page, page_size)
    within = narrower(scope, region)
    if within is None:
        raise NotFoundError(f"region {region} not found")
    shape, params = _search_shape(within=within, name=name, id_number=id_number, q=q, tier=tier,
                                  dialect=bind.dialect.name)
    counted_page, count_all, ordered_page = _search_statements(shape, bind.dialect)
    params |= {"page_size": page_size, "page_offset": (page - 1) * page_size}
    with reading(bind) as conn, _planned_for_its_values(conn):
        rows = conn.execute(counted_page, params).all()
        total = rows[0].total if rows else conn.execute(count_all, params).scalar_one()  # a page past the end
        if total > TOTAL_CAP:
            rows = conn.execute(ordered_page, params).all()
    items = [_household_item(row) for row in rows]
    _, _, _, id_kind, free, _ = shape
    return Page(items, min(total, TOTAL_CAP), page, page_size, total_capped=total > TOTAL_CAP,
                by_full_id_number="full" in (id_kind, free and free[0]))


def _tier_condition(kind: str):  # noqa: ANN202
    """SQL: the household's current tier is the bound `tier`. Within a county or smaller
    ("lookup"), each candidate household's tier is looked up by index (a few thousand look-ups
    at 1M persons); a semi-join there had PostgreSQL hash every household of that tier in the
    province (70,000, 50-100 ms). Across a city or province the hash is the cheaper way."""
    tier = bindparam("tier")
    if kind == "lookup":
        current = select(_current_ht.c.tier).where(_current_ht.c.household_id == _h.c.id,
                                                   _current_ht.c.until.is_(None)).limit(1)
        return current.scalar_subquery() == tier
    return _h.c.id.in_(select(_ht.c.household_id).where(_ht.c.until.is_(None), _ht.c.tier == tier))


def _members_where(cond):  # noqa: ANN001, ANN202
    return (select(_m.c.household_id).join(_p, _p.c.id == _m.c.person_id)
            .where(_m.c.valid_to.is_(None), cond))


def _free_text_shape(q: str, dialect: str, params: dict) -> tuple[str | None, bool]:
    """(id kind or None, whether also a name) of free text `q`; binds its values into params:
    a household number always, an id number by its shape, a name unless all digits."""
    params["q"] = q
    value = identity.normalize(q)
    id_kind = None
    if _ID18.match(value) or _LAST4.match(value):
        id_kind, params["q_id_value"] = _id_value(value)
    as_name = False
    if not value.isdigit():
        try:
            params |= _name_values(q, dialect, "q_name")
            as_name = True
        except InvalidQuery:
            pass
    return id_kind, as_name


def _free_text(shape: tuple[str | None, bool], dialect: str):  # noqa: ANN202
    id_kind, as_name = shape
    subqueries = [select(_h.c.id).where(_h.c.household_no == bindparam("q"))]
    if id_kind:
        subqueries.append(_members_where(_id_condition(id_kind, "q_id_value")))
    if as_name:
        subqueries.append(_members_where(_name_condition("q_name", dialect)))
    return _h.c.id.in_(union(*subqueries))


def _household_item(row) -> dict:  # noqa: ANN001
    """A list item (masked) from a row of `_item_columns`."""
    tier = row.tier or model.Tier.none.value
    return {
        "household_no": row.household_no, "region_code": row.region_code, "region_name": row.region_name,
        "head_name": identity.mask_name(row.head_name) if row.head_name else None,
        "head_id_number": identity.mask_id_number(row.head_id_number) if row.head_id_number else None,
        "members": row.members, "tier": tier, "tier_label": model.TIER_LABELS[tier],
        "registration": row.registration,
        "registration_label": model.REGISTRATION_LABELS.get(row.registration, row.registration),
    }


# --- detail --------------------------------------------------------------------------------


def _path_codes(code: str) -> list[str]:
    """The codes of a region and its ancestors, province first: the code's own prefixes
    padded to 12 digits (a level a place lacks, such as the city of a municipality, is simply
    not found in `regions`)."""
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12, 14) if n <= len(code)]
    return [p.ljust(12, "0") if len(p) < 12 else p for p in prefixes]


def _path_items(codes: list[str], rows: dict) -> list[dict]:
    out, seen = [], set()
    for c in codes:
        if c in rows and c not in seen:
            seen.add(c)
            out.append({"code": c, "name": rows[c].name, "level": rows[c].level,
                        "level_label": LEVEL_LABELS_ZH[Level(rows[c].level)]})
    return out


def region_path(conn: Connection, code: str) -> list[dict]:
    """Names of the region and its ancestors, province first (for breadcrumbs). One query."""
    codes = _path_codes(code)
    r = regions_store.regions
    rows = {row.code: row for row in conn.execute(
        select(r.c.code, r.c.name, r.c.level).where(r.c.code.in_(codes)))}
    return _path_items(codes, rows)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _iso(d: dt.date | dt.datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _tier_item(tier: str | None) -> dict:
    tier = tier or model.Tier.none.value
    return {"tier": tier, "tier_label": model.TIER_LABELS.get(tier, tier)}


def _padded_prefix(code, n: int):  # noqa: ANN001, ANN202
    """SQL: the first n digits of a region code padded to 12 (`_path_codes`, in SQL). The
    numbers are written into the statement (constants, not parameters to bind each time)."""
    first_n = func.substr(code, literal_column("1"), literal_column(str(n)), type_=String)
    return func.substr(first_n + literal_column("'000000000000'", String), literal_column("1"),
                       literal_column("12"), type_=String)


_hv = store.household_versions
# Household detail is the busiest read of the caseworker's screens: its statements are built
# once (building a SELECT costs more Python than executing it) and the household comes with
# its region path in the same round trip.
_HOUSEHOLD_WITH_PATH = (
    select(_h, _r.c.code.label("path_code"), _r.c.name.label("path_name"),
           _r.c.level.label("path_level"))
    .select_from(_h.outerjoin(_r, _r.c.code.in_(
        [*(_padded_prefix(_h.c.region_code, n) for n in (2, 4, 6, 9, 12)), _h.c.region_code])))
    .where(_h.c.household_no == bindparam("household_no"))
)
_HOUSEHOLD_MEMBERS = (
    select(_p.c.id, _p.c.name, _p.c.id_number, _p.c.sex, _p.c.birth_date, _m.c.relation,
           _m.c.valid_from, _pt.c.tier, _pt.c.since, *[_pt.c[f] for f in SENSITIVE_FIELDS])
    .join(_m, _m.c.person_id == _p.c.id)
    .outerjoin(_pt, and_(_pt.c.person_id == _p.c.id, _pt.c.until.is_(None)))
    .where(_m.c.household_id == bindparam("household_id"), _m.c.valid_to.is_(None))
    .order_by(_m.c.relation != "head", _p.c.birth_date, _p.c.id)
)
_HOUSEHOLD_TIER_HISTORY = (
    select(_ht.c.tier, _ht.c.since, _ht.c.until).where(_ht.c.household_id == bindparam("household_id"))
    .order_by(_ht.c.since.desc(), _ht.c.id.desc())
)
_HOUSEHOLD_VERSIONS = (
    select(_hv.c.version, _hv.c.data, _hv.c.superseded_at, _hv.c.import_id)
    .where(_hv.c.household_id == bindparam("household_id")).order_by(_hv.c.version)
)


def household_detail(bind: Engine | Connection, *, household_no: str, scope: str, sensitive: bool = False,
                     on: dt.date | None = None) -> dict:
    """A household with current members (masked), tier and its history, region path names and
    versions. With `sensitive` a `sensitive` block holds each member's benefit amount, support
    form and care level (the caller audits that read, in the same transaction when it passes
    a connection). Outside the scope: NotFoundError."""
    on = on or dt.date.today()
    with reading(bind) as conn:
        rows = conn.execute(_HOUSEHOLD_WITH_PATH, {"household_no": household_no}).mappings().all()
        h = rows[0] if rows else None
        if h is None or not household_in_scope(h["region_code"], h["grid_code"], scope):
            raise NotFoundError(f"household {household_no} not found")
        key = {"household_id": h["id"]}
        members = conn.execute(_HOUSEHOLD_MEMBERS, key).all()
        tier_history = conn.execute(_HOUSEHOLD_TIER_HISTORY, key).all()
        # a household's first version has no superseded ones (the import writes a version row
        # only when it replaces the current one): no query needed
        versions = conn.execute(_HOUSEHOLD_VERSIONS, key).all() if h["version"] > 1 else []
    path = _path_items(_path_codes(h["region_code"]), {
        r["path_code"]: _PathRow(r["path_name"], r["path_level"]) for r in rows if r["path_code"]})
    current_tier = next((t.tier for t in tier_history if t.until is None), None)
    out = {
        "household_no": h["household_no"], "region_code": h["region_code"],
        "region_name": path[-1]["name"] if path else None, "region_path": path,
        "registration": h["registration"],
        "registration_label": model.REGISTRATION_LABELS.get(h["registration"], h["registration"]),
        "address": h["address"], "grid_code": h["grid_code"],
        "phone": _mask_phone(h["phone"]),
        **_tier_item(current_tier),
        "tier_history": [{**_tier_item(t.tier), "since": _iso(t.since), "until": _iso(t.until)}
                         for t in tier_history],
        "members": [{
            "person_id": m.id, "name": identity.mask_name(m.name),
            "id_number": identity.mask_id_number(m.id_number), "sex": m.sex,
            "sex_label": model.SEX_LABELS.get(m.sex, m.sex), "age": _age(m.birth_date, on),
            "relation": m.relation, "relation_label": model.RELATION_LABELS.get(m.relation, m.relation),
            **_tier_item(m.tier), "tier_since": _iso(m.since), "member_since": _iso(m.valid_from),
        } for m in members],
        "version": h["version"],
        "versions": _version_items(versions, h),
    }
    if sensitive:
        out["sensitive"] = {"fields": list(SENSITIVE_FIELDS), "members": [
            {"person_id": m.id, "monthly_benefit_fen": m.monthly_benefit_fen,
             "support_form": m.support_form, "care_level": m.care_level} for m in members]}
    return out


def _mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def _version_items(versions, h) -> list[dict]:  # noqa: ANN001
    """Each version with the names of the fields that changed from the previous one
    (names only: an old phone number or address is not shown)."""
    datas = [(v.version, v.data, v.import_id, _iso(v.superseded_at)) for v in versions]
    from safetynet.registry.service import HOUSEHOLD_FIELDS

    current = {f: (h[f].isoformat() if isinstance(h[f], dt.date) else h[f]) for f in HOUSEHOLD_FIELDS}
    datas.append((h["version"], current, h["import_id"], None))
    out, previous = [], None
    for version, data, import_id, superseded in datas:
        changed = [] if previous is None else sorted(f for f in HOUSEHOLD_FIELDS
                                                     if previous.get(f) != data.get(f))
        out.append({"version": version, "import_id": import_id, "superseded_at": superseded,
                    "changed_fields": changed})
        previous = data
    return out


def _person_row(conn: Connection, person_id: int):  # noqa: ANN202
    return conn.execute(select(_p).where(_p.c.id == person_id)).mappings().first()


def _person_scope_household(conn: Connection, person_id: int):  # noqa: ANN202
    """The person's current household, else the last one they belonged to."""
    return conn.execute(
        select(_h.c.id, _h.c.household_no, _h.c.region_code, _h.c.grid_code, _m.c.relation,
               _m.c.valid_to)
        .join(_m, _m.c.household_id == _h.c.id).where(_m.c.person_id == person_id)
        .order_by(_m.c.valid_to.is_(None).desc(), _m.c.valid_to.desc(), _m.c.id.desc()).limit(1)
    ).first()


def person_detail(bind: Engine | Connection, *, person_id: int, scope: str, sensitive: bool = False,
                  on: dt.date | None = None) -> dict:
    """A person (masked) with their household and tier history; scoped by the household they
    belong to (or last belonged to). With `sensitive`, benefit amounts per tier interval."""
    on = on or dt.date.today()
    with reading(bind) as conn:
        p = _person_row(conn, person_id)
        hh = _person_scope_household(conn, person_id) if p else None
        if p is None or hh is None or not household_in_scope(hh.region_code, hh.grid_code, scope):
            raise NotFoundError(f"person {person_id} not found")
        tiers = conn.execute(
            select(_pt.c.tier, _pt.c.since, _pt.c.until, _h.c.household_no,
                   *[_pt.c[f] for f in SENSITIVE_FIELDS])
            .join(_h, _h.c.id == _pt.c.household_id).where(_pt.c.person_id == person_id)
            .order_by(_pt.c.since.desc(), _pt.c.id.desc())
        ).all()
        memberships = conn.execute(
            select(_h.c.household_no, _m.c.relation, _m.c.valid_from, _m.c.valid_to)
            .join(_h, _h.c.id == _m.c.household_id).where(_m.c.person_id == person_id)
            .order_by(_m.c.valid_from.desc(), _m.c.id.desc())
        ).all()
        path = region_path(conn, hh.region_code)
    current = next((t for t in tiers if t.until is None), None)
    out = {
        "person_id": p["id"], "name": identity.mask_name(p["name"]),
        "id_number": identity.mask_id_number(p["id_number"]), "sex": p["sex"],
        "sex_label": model.SEX_LABELS.get(p["sex"], p["sex"]), "age": _age(p["birth_date"], on),
        "household_no": hh.household_no if hh.valid_to is None else None,
        "relation": hh.relation if hh.valid_to is None else None,
        "relation_label": model.RELATION_LABELS.get(hh.relation) if hh.valid_to is None else None,
        "region_code": hh.region_code, "region_path": path,
        **_tier_item(current.tier if current else None),
        "tier_history": [{**_tier_item(t.tier), "since": _iso(t.since), "until": _iso(t.until),
                          "household_no": t.household_no} for t in tiers],
        "memberships": [{"household_no": m.household_no, "relation": m.relation,
                         "relation_label": model.RELATION_LABELS.get(m.relation, m.relation),
                         "valid_from": _iso(m.valid_from), "valid_to": _iso(m.valid_to)}
                        for m in memberships],
        "version": p["version"],
    }
    if sensitive:
        out["sensitive"] = {"fields": list(SENSITIVE_FIELDS), "tiers": [
            {"tier": t.tier, "since": _iso(t.since), "monthly_benefit_fen": t.monthly_benefit_fen,
             "support_form": t.support_form, "care_level": t.care_level} for t in tiers]}
    return out


def unmasked_identity(bind: Engine | Connection, *, person_id: int, scope: str) -> dict:
    """The full name and id number of a person in scope (the caller audits this read)."""
    with reading(bind) as conn:
        p = _person_row(conn, person_id)
        hh = _person_scope_household(conn, person_id) if p else None
    if p is None or hh is None or not household_in_scope(hh.region_code, hh.grid_code, scope):
        raise NotFoundError(f"person {person_id} not found")
    return {"person_id": p["id"], "id_number": p["id_number"], "name": p["name"]}


def tier_counts(engine: Engine, *, scope: str, on: dt.date | None = None) -> dict[str, int]:
    """Persons per tier on a date within the scope (the scoped registry summary)."""
    on = on or dt.date.today()
    with engine.connect() as conn:
        rows = conn.execute(
            select(_pt.c.tier, func.count()).join(_h, _h.c.id == _pt.c.household_id)
            .where(region_condition(scope), _pt.c.since <= on,
                   or_(_pt.c.until.is_(None), _pt.c.until > on))
            .group_by(_pt.c.tier)
        )
        return {tier: n for tier, n in rows}
