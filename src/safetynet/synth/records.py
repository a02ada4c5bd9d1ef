"""Snapshot feeds as record sets with a start and an end day.

A snapshot department (disabled persons' federation, education, vehicles, …) delivers its
full current state every month. Here each record is one row of such a register: a person,
a start day (issued, enrolled, registered), an end day (revoked, left, deregistered; or
none) and the feed's own attributes. A record keeps its record_id across months, so a
re-delivered unchanged row is a duplicate and a changed one (an end day appearing) is a
correction, as feeds.md defines. Ended records stay visible for a year, then drop out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.synth import model as m


@dataclass
class Records:
    person: np.ndarray  # int64
    start: np.ndarray  # int32 day
    end: np.ndarray  # int32 day or NO_DAY
    event: np.ndarray  # int8: index into EVENT_KINDS, -1 background
    attrs: dict[str, np.ndarray] = field(default_factory=dict)
    text: dict[str, pa.Array] = field(default_factory=dict)  # string attributes

    def __len__(self) -> int:
        return len(self.person)

    @staticmethod
    def of(person, start, end=None, event=-1, **attrs) -> Records:
        n = len(person)
        text = {k: v for k, v in attrs.items() if isinstance(v, pa.Array | pa.ChunkedArray)}
        nums = {k: np.asarray(v) for k, v in attrs.items() if k not in text}
        return Records(
            person=np.asarray(person, np.int64),
            start=np.asarray(start, np.int32),
            end=np.full(n, m.NO_DAY, np.int32) if end is None else np.asarray(end, np.int32),
            event=np.full(n, event, np.int8) if np.isscalar(event) else np.asarray(event, np.int8),
            attrs=nums,
            text={k: pa.chunked_array([v]) if isinstance(v, pa.Array) else v
                  for k, v in text.items()},
        )

    @staticmethod
    def concat(parts: list[Records]) -> Records:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Records.of(np.empty(0, np.int64), np.empty(0, np.int32))
        keys = parts[0].attrs.keys()
        tkeys = parts[0].text.keys()
        return Records(
            person=np.concatenate([p.person for p in parts]),
            start=np.concatenate([p.start for p in parts]),
            end=np.concatenate([p.end for p in parts]),
            event=np.concatenate([p.event for p in parts]),
            attrs={k: np.concatenate([p.attrs[k] for p in parts]) for k in keys},
            text={k: pa.chunked_array([c for p in parts for c in p.text[k].chunks],
                                      type=pa.string())
                  for k in tkeys},
        )


def record_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded number, e.g. CL0000001234 (vectorised)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width,
                          padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def visible(rec: Records, last_day: int) -> np.ndarray:
    """Record indexes in the snapshot as of `last_day` (started; not ended > a year ago)."""
    keep = (rec.start <= last_day) & (
        (rec.end == m.NO_DAY) | (rec.end > last_day - m.SNAPSHOT_KEEP_DAYS))
    return np.flatnonzero(keep)


def shown_end(end: np.ndarray, last_day: int) -> np.ndarray:
    """An end day a department already knows about at `last_day`; NO_DAY (empty) otherwise."""
    return np.where(end <= last_day, end, m.NO_DAY).astype(np.int32)


def event_month(start: np.ndarray, month_first: np.ndarray) -> np.ndarray:
    """The covered month a record appears in (0 when it predates the window)."""
    return np.maximum(np.searchsorted(month_first, start, side="right") - 1, 0)


def pick(rng: np.random.Generator, pool: np.ndarray, k: int,
         weights: np.ndarray | None = None) -> np.ndarray:
    """Up to k distinct items of `pool` (uniform, or by weights)."""
    k = int(min(k, len(pool)))
    if k <= 0:
        return np.empty(0, np.int64)
    if weights is None:
        return np.sort(rng.choice(pool, size=k, replace=False))
    w = weights / weights.sum()
    return np.sort(rng.choice(pool, size=k, replace=False, p=w))


def days_in(rng: np.random.Generator, first: int, last: int, n: int) -> np.ndarray:
    return (first + np.floor(rng.random(n) * (last - first + 1))).astype(np.int32)


def count_for(rate_per_1000: float, n_persons: int, rng: np.random.Generator) -> int:
    """Events this month for a rate per 1,000 persons (Poisson; at least one now and then)."""
    return int(rng.poisson(rate_per_1000 * n_persons / 1000.0))
