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
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, func, or_, select, union

from safetynet import identity
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.regions import store as regions_store
from safetynet.regions.model import LEVEL_LABELS_ZH, Level, short_code
from safetynet.registry import model, store

MAX_PAGE_SIZE = 200
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
class Page:
    items: list[dict]
    total: int
    page: int
    page_size: int

    def as_dict(self) -> dict:
        return {"items": self.items, "total": self.total, "page": self.page,
                "page_size": self.page_size}


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


def _id_condition(raw: str):  # noqa: ANN202
    value = identity.normalize(raw)
    if _ID18.match(value):
        return _p.c.id_number == value
    if _LAST4.match(value):
        return func.substr(_p.c.id_number, 15, 4) == value
    raise InvalidQuery("id_number", "id_number must be the full 18-character number or its last 4 "
                       f"characters (digits, last may be X), got {len(value)} characters",
                       "身份证号应为完整 18 位或后 4 位")


def _name_condition(raw: str, dialect: str):  # noqa: ANN202
    name = "".join(raw.split())
    if not name or len(name) > 64 or any(c in name for c in "%_*?[]\\"):
        raise InvalidQuery("name", "name must be 1–64 characters without wildcards (exact name or "
                           "its beginning, e.g. 张 or 张建)", "姓名应为 1–64 个字符，可只输入开头（如“张”）")
    # both forms are index prefix scans: PostgreSQL LIKE on a pattern-ops index, SQLite GLOB
    # on a BINARY index (SQLite's LIKE is case-insensitive and would not use the index)
    if dialect == "sqlite":
        return _p.c.name.op("GLOB")(name + "*")
    return _p.c.name.like(name + "%")


def _tier_value(tier: str) -> str:
    if tier not in model.TIER_LABELS or tier == model.Tier.none.value:
        valid = ", ".join(t for t in model.TIER_LABELS if t != model.Tier.none.value)
        valid_zh = "、".join(label for t, label in model.TIER_LABELS.items() if t != "none")
        raise InvalidQuery("tier", f"tier must be one of {valid}, got {tier!r}",
                           f"救助类别无效，可选：{valid_zh}")
    return tier


# --- search --------------------------------------------------------------------------------


def search_households(
    engine: Engine, *, scope: str, q: str | None = None, name: str | None = None,
    id_number: str | None = None, region: str | None = None, tier: str | None = None,
    page: int = 1, page_size: int = 20,
) -> Page:
    """Households in the scope matching every given criterion, by village then household
    number (the `ix_households_region_no` index order: a region's page needs no sort).

    `name` matches any current member, exactly or by its beginning; `id_number` is a full
    number or the last 4 characters; `region` narrows the scope; `tier` is the household's
    current tier; `q` is free text: household number, name, or id number by its shape.
    """
    _check_page(page, page_size)
    within = narrower(scope, region)
    if within is None:
        raise NotFoundError(f"region {region} not found")
    dialect = engine.dialect.name
    conds = [region_condition(within)]
    person_conds = []
    if name and name.strip():
        person_conds.append(_name_condition(name, dialect))
    if id_number and id_number.strip():
        person_conds.append(_id_condition(id_number))
    if person_conds:
        conds.append(_h.c.id.in_(_members_where(and_(*person_conds))))
    if q and q.strip():
        conds.append(_free_text(q.strip(), dialect))
    if tier:
        conds.append(_h.c.id.in_(select(_ht.c.household_id).where(
            _ht.c.until.is_(None), _ht.c.tier == _tier_value(tier))))
    where = and_(*conds)
    r = regions_store.regions
    page_q = (
        select(_h.c.id, _h.c.household_no, _h.c.region_code, _h.c.registration,
               r.c.name.label("region_name"), _ht.c.tier)
        .join(r, r.c.code == _h.c.region_code)
        .outerjoin(_ht, and_(_ht.c.household_id == _h.c.id, _ht.c.until.is_(None)))
        .where(where).order_by(_h.c.region_code, _h.c.household_no)
        .limit(page_size).offset((page - 1) * page_size)
    )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(_h).where(where)).scalar_one()
        rows = conn.execute(page_q).all()
        items = _household_items(conn, rows)
    return Page(items, total, page, page_size)


def _members_where(cond):  # noqa: ANN001, ANN202
    return (select(_m.c.household_id).join(_p, _p.c.id == _m.c.person_id)
            .where(_m.c.valid_to.is_(None), cond))


def _free_text(q: str, dialect: str):  # noqa: ANN202
    value = identity.normalize(q)
    subqueries = [select(_h.c.id).where(_h.c.household_no == q)]
    if _ID18.match(value) or _LAST4.match(value):
        subqueries.append(_members_where(_id_condition(value)))
    if not value.isdigit():
        try:
            subqueries.append(_members_where(_name_condition(q, dialect)))
        except InvalidQuery:
            pass
    return _h.c.id.in_(union(*subqueries))


def _household_items(conn: Connection, rows: list) -> list[dict]:
    """List items (masked) for a page of households, in the given order: one more query for
    the heads and member counts."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    heads, counts = {}, {}
    for m in conn.execute(
        select(_m.c.household_id, _m.c.relation, _p.c.name, _p.c.id_number)
        .join(_p, _p.c.id == _m.c.person_id)
        .where(_m.c.household_id.in_(ids), _m.c.valid_to.is_(None))
    ):
        counts[m.household_id] = counts.get(m.household_id, 0) + 1
        if m.relation == "head":
            heads[m.household_id] = m
    out = []
    for b in rows:
        head = heads.get(b.id)
        tier = b.tier or model.Tier.none.value
        out.append({
            "household_no": b.household_no, "region_code": b.region_code, "region_name": b.region_name,
            "head_name": identity.mask_name(head.name) if head else None,
            "head_id_number": identity.mask_id_number(head.id_number) if head else None,
            "members": counts.get(b.id, 0), "tier": tier, "tier_label": model.TIER_LABELS[tier],
            "registration": b.registration,
            "registration_label": model.REGISTRATION_LABELS.get(b.registration, b.registration),
        })
    return out


# --- detail --------------------------------------------------------------------------------


def region_path(conn: Connection, code: str) -> list[dict]:
    """Names of the region and its ancestors, province first (for breadcrumbs). One query:
    the ancestors' codes are the code's own prefixes (a level a place lacks, such as the
    city of a municipality, simply is not found)."""
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12, 14) if n <= len(code)]
    codes = [p.ljust(12, "0") if len(p) < 12 else p for p in prefixes]
    r = regions_store.regions
    rows = {row.code: row for row in conn.execute(
        select(r.c.code, r.c.name, r.c.level).where(r.c.code.in_(codes)))}
    out, seen = [], set()
    for c in codes:
        if c in rows and c not in seen:
            seen.add(c)
            out.append({"code": c, "name": rows[c].name, "level": rows[c].level,
                        "level_label": LEVEL_LABELS_ZH[Level(rows[c].level)]})
    return out


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _iso(d: dt.date | dt.datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _tier_item(tier: str | None) -> dict:
    tier = tier or model.Tier.none.value
    return {"tier": tier, "tier_label": model.TIER_LABELS.get(tier, tier)}


def household_detail(engine: Engine, *, household_no: str, scope: str, sensitive: bool = False,
                     on: dt.date | None = None) -> dict:
    """A household with current members (masked), tier and its history, region path names and
    versions. With `sensitive` a `sensitive` block holds each member's benefit amount, support
    form and care level (the caller audits that read). Outside the scope: NotFoundError."""
    on = on or dt.date.today()
    with engine.connect() as conn:
        h = conn.execute(select(_h).where(_h.c.household_no == household_no)).mappings().first()
        if h is None or not household_in_scope(h["region_code"], h["grid_code"], scope):
            raise NotFoundError(f"household {household_no} not found")
        members = conn.execute(
            select(_p.c.id, _p.c.name, _p.c.id_number, _p.c.sex, _p.c.birth_date, _m.c.relation,
                   _m.c.valid_from, _pt.c.tier, _pt.c.since, *[_pt.c[f] for f in SENSITIVE_FIELDS])
            .join(_m, _m.c.person_id == _p.c.id)
            .outerjoin(_pt, and_(_pt.c.person_id == _p.c.id, _pt.c.until.is_(None)))
            .where(_m.c.household_id == h["id"], _m.c.valid_to.is_(None))
            .order_by(_m.c.relation != "head", _p.c.birth_date, _p.c.id)
        ).all()
        tier_history = conn.execute(
            select(_ht.c.tier, _ht.c.since, _ht.c.until).where(_ht.c.household_id == h["id"])
            .order_by(_ht.c.since.desc(), _ht.c.id.desc())
        ).all()
        versions = conn.execute(
            select(store.household_versions.c.version, store.household_versions.c.data,
                   store.household_versions.c.superseded_at, store.household_versions.c.import_id)
            .where(store.household_versions.c.household_id == h["id"])
            .order_by(store.household_versions.c.version)
        ).all()
        path = region_path(conn, h["region_code"])
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


def person_detail(engine: Engine, *, person_id: int, scope: str, sensitive: bool = False,
                  on: dt.date | None = None) -> dict:
    """A person (masked) with their household and tier history; scoped by the household they
    belong to (or last belonged to). With `sensitive`, benefit amounts per tier interval."""
    on = on or dt.date.today()
    with engine.connect() as conn:
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


def unmasked_identity(engine: Engine, *, person_id: int, scope: str) -> dict:
    """The full name and id number of a person in scope (the caller audits this read)."""
    with engine.connect() as conn:
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
