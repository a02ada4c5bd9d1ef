"""The register export: DIR/registry/households.csv and persons.csv (registry.md).

UTF-8, English headers, dates YYYY-MM-DD, money yuan with 2 decimals. Written in chunks so
ten million persons never exist as one table of strings.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from safetynet.synth import model as m
from safetynet.synth.feeds import labels
from safetynet.synth.population import RELATIONS
from safetynet.synth.timeline import World
from safetynet.synth.truth import money
from safetynet.synth.writers import typed_column

CHUNK = 1_000_000
HOUSEHOLD_COLUMNS = ("household_id", "region", "registration", "address", "grid", "phone")
PERSON_COLUMNS = ("household_id", "id_number", "name", "sex", "birth_date", "relation", "tier",
                  "tier_since", "support_form", "care_level", "monthly_benefit")


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, np.int64)), pa.string())


def _append(path: Path, table: pa.Table, header: bool) -> None:
    buf = io.BytesIO()
    if header:
        buf.write((",".join(table.column_names) + "\n").encode("utf-8"))
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    with path.open("ab" if not header else "wb") as f:
        f.write(buf.getvalue())


def write_registry(out: Path, w: World, household_ids: pa.Array, h_phone: np.ndarray,
                   rng: np.random.Generator) -> None:
    out.mkdir(parents=True, exist_ok=True)
    reg, geo, p = w.reg, w.geo, w.people
    nh = reg.n_households
    # house numbers: flats in urban communities, plain numbers in villages
    building = rng.integers(1, 40, nh)
    unit = rng.integers(1, 7, nh)
    room = rng.integers(1, 19, nh) * 100 + rng.integers(1, 5, nh)
    house = rng.integers(1, 400, nh)
    for lo in range(0, max(nh, 1), CHUNK):
        s = slice(lo, min(lo + CHUNK, nh))
        v = reg.h_village[s]
        urban = reg.h_urban[s]
        flat = pc.binary_join_element_wise(
            _num(building[s]), pa.scalar("号楼"), _num(unit[s]), pa.scalar("单元"),
            _num(room[s]), pa.scalar("室"), "")
        plain = pc.binary_join_element_wise(_num(house[s]), pa.scalar("号"), "")
        address = pc.binary_join_element_wise(
            geo.village_label.take(pa.array(v)), pc.if_else(pa.array(urban), flat, plain), "")
        phone = h_phone[s]
        table = pa.table({
            "household_id": household_ids.slice(lo, s.stop - lo),
            "region": pa.array(geo.village_code[v], pa.string()),
            "registration": labels(("rural", "urban"), urban.astype(np.int64)),
            "address": address,
            "grid": pc.utf8_lpad(_num(reg.h_grid[s]), width=2, padding="0"),
            "phone": pc.if_else(pa.array(phone > 0), _num(phone), pa.scalar(None, pa.string())),
        })
        _append(out / "households.csv", table, header=lo == 0)

    n = reg.n_persons
    for lo in range(0, max(n, 1), CHUNK):
        s = slice(lo, min(lo + CHUNK, n))
        tier = reg.tier[s]
        benefit = reg.benefit[s]
        table = pa.table({
            "household_id": household_ids.take(pa.array(reg.hh[s])),
            "id_number": p.id_arrow.slice(lo, s.stop - lo),
            "name": p.name_arrow.slice(lo, s.stop - lo),
            "sex": labels(("F", "M"), reg.sex[s]),
            "birth_date": typed_column("date", reg.birth[s], 0),
            "relation": labels(RELATIONS, reg.relation[s]),
            "tier": labels(m.TIERS, tier),
            "tier_since": typed_column("date", reg.tier_since[s], 0),
            "support_form": _optional(m.SUPPORT_FORMS, reg.support[s]),
            "care_level": _optional(m.CARE_LEVELS, reg.care[s]),
            "monthly_benefit": pc.if_else(pa.array(benefit >= 0), money(np.maximum(benefit, 0)),
                                          pa.scalar(None, pa.decimal128(16, 2))),
        })
        _append(out / "persons.csv", table, header=lo == 0)


def _optional(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(codes >= 0), labels(values, np.maximum(codes, 0)),
                      pa.scalar(None, pa.string()))
