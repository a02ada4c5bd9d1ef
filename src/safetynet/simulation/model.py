"""The reform spec of a policy simulation: how the dibao standard changes.

Forms (amounts in yuan per person per month): `+7%` / `-3%` (relative, to the fen, half up),
`+50` / `-20.5` (yuan added), `=1000` (one absolute standard everywhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from safetynet.errors import SafetynetError

_SPEC = re.compile(r"^\s*([+\-=])\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class SimulationInputError(SafetynetError):
    """A bad month, change spec or region (the CLI exits 2, the API answers 422)."""


@dataclass(frozen=True)
class DibaoChange:
    op: str  # "+", "-" or "="
    amount: Decimal  # percent when `percent`, else yuan
    percent: bool
    text: str

    def apply(self, fen: int) -> int:
        """The reformed standard (fen) for a baseline standard of `fen`."""
        if self.op == "=":
            new = self.amount * 100
        elif self.percent:
            sign = 1 if self.op == "+" else -1
            new = Decimal(fen) * (100 + sign * self.amount) / 100
        else:
            sign = 1 if self.op == "+" else -1
            new = Decimal(fen) + sign * self.amount * 100
        return max(int(new.quantize(Decimal(1), rounding=ROUND_HALF_UP)), 0)

    def describe(self) -> str:
        if self.op == "=":
            return f"低保标准统一为 {self.amount} 元"
        unit = "%" if self.percent else " 元"
        return f"低保标准{'提高' if self.op == '+' else '降低'} {self.amount}{unit}"


def parse_change(text: str) -> DibaoChange:
    """`+7%`, `-3%`, `+50`, `=1000` → DibaoChange; SimulationInputError otherwise."""
    m = _SPEC.match(text or "")
    if not m:
        raise SimulationInputError(f"not a dibao standard change: {text!r}; use +7%, -3%, +50 (yuan) "
                                   "or =1000 (yuan, absolute)")
    op, number, pct = m.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only numbers
        raise SimulationInputError(f"not a number: {number!r}") from e
    percent = pct == "%"
    if op == "=" and percent:
        raise SimulationInputError(f"{text!r}: an absolute standard is in yuan (=1000), not a percent")
    if op == "=" and amount <= 0:
        raise SimulationInputError(f"{text!r}: the standard must be above 0")
    if op == "-" and percent and amount >= 100:
        raise SimulationInputError(f"{text!r}: a cut must be below 100%")
    return DibaoChange(op, amount, percent, text.strip())


def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise SimulationInputError(f"not a month: {month!r}; expected YYYY-MM")
    return month


def check_region(region: str | None) -> str | None:
    """A region code prefix (2/4/6/9/12 digits, a 12-digit code ending in zeros is shortened)."""
    if region is None or region == "":
        return None
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}", region):
        raise SimulationInputError(f"not a region code: {region!r}; use 2/4/6/9/12 digits (e.g. 3704)")
    if len(region) == 12:
        stripped = region.rstrip("0")
        for n in (2, 4, 6, 9, 12):
            if len(stripped) <= n:
                return region[:n]
    return region
