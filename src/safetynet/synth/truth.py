"""The answer key: every planted event, every damaged id number, every person's truth.

Kept apart from the feeds (DIR/truth/) so that tests and benchmarks can check that the
platform finds what was planted without the platform ever reading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from safetynet.synth import model as m
from safetynet.synth.people import REGISTER, People

PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}


@dataclass
class EventChunk:
    kind: str
    person: np.ndarray
    month: str  # YYYY-MM
    feed: str
    record_ids: pa.Array  # list<string>
    related_feed: str | None = None
    related_ids: pa.Array | None = None  # list<string>
    detail: pa.Array | None = None  # string
    main_earner: np.ndarray | None = None


def id_lists(first: pa.Array, second: pa.Array | None = None) -> pa.Array:
    """list<string> of one id, or two where `second` is not null."""
    n = len(first)
    if second is None:
        return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), first)
    has2 = pc.is_valid(second).to_numpy(zero_copy_only=False)
    lens = 1 + has2.astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    pos1 = offsets[:-1]
    pos2 = pos1[has2] + 1
    order = np.argsort(np.concatenate([pos1, pos2]), kind="stable")
    values = pa.concat_arrays([first.cast(pa.string()),
                               second.filter(pa.array(has2)).cast(pa.string())]).take(
        pa.array(order))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


class Truth:
    def __init__(self, people: People, household_ids: pa.Array):
        self.people = people
        self.household_ids = household_ids
        self.events: list[pa.Table] = []
        self.bad: list[pa.Table] = []
        self.counts: dict[str, int] = {}

    def add_events(self, ev: EventChunk) -> None:
        n = len(ev.person)
        if n == 0:
            return
        p = self.people
        hh = p.hh[ev.person]
        registered = p.origin[ev.person] == REGISTER
        hid = pc.if_else(pa.array(registered), self.household_ids.take(pa.array(np.maximum(hh, 0))),
                         pa.scalar(None, pa.string()))
        related_feed = pa.nulls(n, pa.string())
        related = pa.nulls(n, pa.list_(pa.string()))
        if ev.related_ids is not None:  # only where the event has a related row
            has = pc.greater(pc.list_value_length(ev.related_ids), 0)
            related_feed = pc.if_else(has, pa.scalar(ev.related_feed),
                                      pa.scalar(None, pa.string()))
            related = pc.if_else(has, ev.related_ids, pa.scalar(None, pa.list_(pa.string())))
        self.events.append(pa.table({
            "kind": pa.array([ev.kind] * n, pa.string()),
            "id_number": p.id_arrow.take(pa.array(ev.person)),
            "household_id": hid,
            "registered": pa.array(registered),
            "enrolled": pa.array(registered & np.isin(p.tier[ev.person], m.ENROLLED_TIERS)),
            "tier": pa.array(np.array(m.TIERS)[p.tier[ev.person]]),
            "month": pa.array([ev.month] * n, pa.string()),
            "feed": pa.array([ev.feed] * n, pa.string()),
            "record_ids": ev.record_ids,
            "related_feed": related_feed,
            "related_record_ids": related,
            "main_earner": (pa.array(ev.main_earner) if ev.main_earner is not None
                            else pa.nulls(n, pa.bool_())),
            "detail": ev.detail if ev.detail is not None else pa.nulls(n, pa.string()),
        }))
        self.counts[ev.kind] = self.counts.get(ev.kind, 0) + n

    def add_bad_ids(self, table: pa.Table) -> None:
        if table.num_rows:
            self.bad.append(table)

    def write(self, out: Path, persons: pa.Table, calibration: dict) -> None:
        out.mkdir(parents=True, exist_ok=True)
        events = pa.concat_tables(self.events) if self.events else _empty_events()
        event_id = pc.binary_join_element_wise(
            pa.scalar("E"), pc.utf8_lpad(pc.cast(pa.array(np.arange(1, events.num_rows + 1)),
                                                 pa.string()), width=9, padding="0"), "")
        events = events.add_column(0, "event_id", event_id)
        pq.write_table(events, out / "events.parquet", **PARQUET_OPTIONS)
        bad = pa.concat_tables(self.bad) if self.bad else pa.table(
            {k: pa.array([], pa.string()) for k in
             ("feed", "file", "record_id", "id_number", "true_id_number", "kind")})
        pq.write_table(bad, out / "bad_ids.parquet", **PARQUET_OPTIONS)
        pq.write_table(persons, out / "persons.parquet", **PARQUET_OPTIONS)
        (out / "calibration.json").write_text(
            json.dumps(calibration, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8")


def _empty_events() -> pa.Table:
    s = pa.string()
    return pa.table({
        "kind": pa.array([], s), "id_number": pa.array([], s), "household_id": pa.array([], s),
        "registered": pa.array([], pa.bool_()), "enrolled": pa.array([], pa.bool_()),
        "tier": pa.array([], s), "month": pa.array([], s), "feed": pa.array([], s),
        "record_ids": pa.array([], pa.list_(s)), "related_feed": pa.array([], s),
        "related_record_ids": pa.array([], pa.list_(s)),
        "main_earner": pa.array([], pa.bool_()), "detail": pa.array([], s),
    })


def money(fen: np.ndarray) -> pa.Array:
    """int64 fen → decimal128(16, 2) yuan, built from buffers (no float, no Python loop)."""
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    buf = np.empty((len(fen), 2), np.int64)
    buf[:, 0] = fen
    buf[:, 1] = fen >> 63  # sign extension to 128 bits
    return pa.Array.from_buffers(pa.decimal128(16, 2), len(fen), [None, pa.py_buffer(buf)])


def persons_table(people: People, household_ids: pa.Array, income: np.ndarray,
                  h_income_pc: np.ndarray, h_std: np.ndarray) -> pa.Table:
    """truth/persons.parquet: per person tier, registered, and the counted income used."""
    p = people
    registered = p.origin == REGISTER
    hh = np.maximum(p.hh, 0)
    hid = pc.if_else(pa.array(p.hh >= 0), household_ids.take(pa.array(hh)),
                     pa.scalar(None, pa.string()))
    origin = np.array(("register", "outside", "cadre", "newborn"))[p.origin]
    pc_income = np.where(registered, h_income_pc[hh], 0)
    std = np.where(registered, h_std[hh], 0)
    return pa.table({
        "id_number": p.id_arrow,
        "household_id": hid,
        "tier": pa.array(np.array(m.TIERS)[p.tier]),
        "registered": pa.array(registered),
        "origin": pa.array(origin),
        "counted_income_monthly": money(income),
        "household_income_per_capita": pc.if_else(pa.array(registered), money(pc_income),
                                                  pa.scalar(None, pa.decimal128(16, 2))),
        "dibao_standard": pc.if_else(pa.array(registered), money(std),
                                     pa.scalar(None, pa.decimal128(16, 2))),
    })
