"""Resident identity numbers for a whole population, and the ways clerks get them wrong.

A number is 6 digits of county code, 8 of birth date, 3 of sequence (odd = male) and a
check character (GB 11643). The 17-digit body fits an int64, so uniqueness is a sort and
collisions are redrawn in bulk. Check characters come from `identity.check_digits`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from safetynet import identity

_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)
_CHUNK = 1_000_000


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + mo * 100 + dd


def assign_bodies(prefix6: np.ndarray, birth_days: np.ndarray, male: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Unique 17-digit bodies: the sequence number is redrawn wherever two people collide."""
    base = prefix6.astype(np.int64) * 10**11 + yyyymmdd(birth_days) * 1000
    sex_digit = male.astype(np.int64)
    bodies = base + rng.integers(0, 500, len(base)) * 2 + sex_digit
    for _ in range(50):
        order = np.argsort(bodies, kind="stable")
        s = bodies[order]
        dup = np.zeros(len(s), bool)
        dup[1:] = s[1:] == s[:-1]
        if not dup.any():
            return bodies
        redo = order[dup]
        bodies[redo] = base[redo] + rng.integers(0, 500, len(redo)) * 2 + sex_digit[redo]
    raise RuntimeError("could not make identity numbers unique (too many people per county-day)")


def render(bodies: np.ndarray) -> np.ndarray:
    """int64 bodies → 'S18' numbers with check characters (chunked to bound memory)."""
    out = np.empty(len(bodies), dtype="S18")
    view = out.view(np.uint8).reshape(-1, 18)
    for lo in range(0, len(bodies), _CHUNK):
        b = bodies[lo:lo + _CHUNK]
        digits = (b[:, None] // _POW10[None, :]) % 10
        raw = (digits + ord("0")).astype(np.uint8)
        view[lo:lo + len(b), :17] = raw
        checks = identity.check_digits(np.ascontiguousarray(raw).view("S17").ravel())
        view[lo:lo + len(b), 17] = checks.view(np.uint8)
    return out


def to_arrow(numbers: np.ndarray) -> pa.Array:
    """'S18' numpy array → Arrow string array, without a Python object per number."""
    n = len(numbers)
    offsets = np.arange(0, 18 * (n + 1), 18, dtype=np.int32)
    data = np.ascontiguousarray(numbers).view(np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def corrupt(numbers: np.ndarray, kinds: np.ndarray, known_bodies_sorted: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Damage numbers the way they arrive from medical and hotline systems.

    kinds: 0 missing, 1 typo (one digit changed), 2 transposed (two neighbouring digits
    swapped), 3 wrong_valid (a plausible number with a right check digit that belongs to
    nobody). Typos and transpositions always break the check digit: each weight is
    non-zero mod 11 and neighbouring weights differ. Returns (numbers 'S18' with b'' for
    missing, final kinds: a wrong_valid that would hit a real person falls back to typo).
    """
    kinds = kinds.copy()
    out = numbers.copy()
    raw = out.view(np.uint8).reshape(-1, 18)
    n = len(out)
    rows = np.arange(n)

    # transposed: swap positions p, p+1 (within the body) whose digits differ
    tr = np.flatnonzero(kinds == 2)
    pos = rng.integers(6, 16, len(tr))
    for _ in range(8):
        same = raw[tr, pos] == raw[tr, pos + 1]
        if not same.any():
            break
        pos[same] = rng.integers(6, 16, int(same.sum()))
    same = raw[tr, pos] == raw[tr, pos + 1]
    kinds[tr[same]] = 1  # all-equal neighbourhood: make it a typo instead
    tr, pos = tr[~same], pos[~same]
    a, b = raw[tr, pos].copy(), raw[tr, pos + 1].copy()
    raw[tr, pos], raw[tr, pos + 1] = b, a

    # wrong_valid: another sequence number, check digit recomputed
    wv = np.flatnonzero(kinds == 3)
    digit = raw[wv, 15].astype(np.int64) - ord("0")
    raw[wv, 15] = ((digit + rng.integers(1, 10, len(wv))) % 10 + ord("0")).astype(np.uint8)
    body = np.ascontiguousarray(raw[wv, :17]).view("S17").ravel()
    raw[wv, 17] = identity.check_digits(body).view(np.uint8)
    body_int = body.astype(np.int64)
    hit = np.zeros(len(wv), bool)
    if len(known_bodies_sorted):
        at = np.minimum(np.searchsorted(known_bodies_sorted, body_int), len(known_bodies_sorted) - 1)
        hit = known_bodies_sorted[at] == body_int
    back = wv[hit]
    raw[back] = numbers[back].view(np.uint8).reshape(-1, 18)
    kinds[back] = 1

    # typo: one body digit replaced by another digit
    ty = np.flatnonzero(kinds == 1)
    pos = rng.integers(0, 17, len(ty))
    digit = raw[ty, pos].astype(np.int64) - ord("0")
    raw[ty, pos] = ((digit + rng.integers(1, 10, len(ty))) % 10 + ord("0")).astype(np.uint8)

    out[rows[kinds == 0]] = b""
    return out, kinds
