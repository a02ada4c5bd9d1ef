"""Local assistance standards as data (docs/policy.md §2: [local] values set by each county).

A standard is an amount per person per month for (region, registration, kind) from an
effective date. Kinds linked to the dibao standard are derived by dated factors from
links.yaml ("dynamic adjustment": raise dibao, the linked kinds follow).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from safetynet.tabular import Column


class Kind(StrEnum):
    dibao = "dibao"
    extremely_poor_basic = "extremely_poor_basic"
    care_self_care = "care_self_care"
    care_partial = "care_partial"
    care_full = "care_full"
    edge_income_line = "edge_income_line"
    temporary_assistance_cap = "temporary_assistance_cap"
    orphan_institution = "orphan_institution"
    orphan_scattered = "orphan_scattered"
    disability_living = "disability_living"
    disability_care = "disability_care"


KIND_LABELS = {
    "dibao": "低保标准",
    "extremely_poor_basic": "特困基本生活标准",
    "care_self_care": "特困照料护理标准（全自理）",
    "care_partial": "特困照料护理标准（半护理）",
    "care_full": "特困照料护理标准（全护理）",
    "edge_income_line": "低保边缘收入标准",
    "temporary_assistance_cap": "临时救助上限",
    "orphan_institution": "孤儿基本生活费（机构）",
    "orphan_scattered": "孤儿基本生活费（散居）",
    "disability_living": "困难残疾人生活补贴",
    "disability_care": "重度残疾人护理补贴",
}

STANDARD_COLUMNS = [
    Column("region", "行政区划代码", required=True),
    Column("registration", "户籍性质", required=True),
    Column("kind", "标准类别", required=True),
    Column("effective_from", "执行日期", required=True),
    Column("amount", "标准金额", required=True),
    Column("source", "依据文件"),
]

LINKS_FILE = Path(__file__).with_name("links.yaml")


@dataclass(frozen=True)
class Link:
    kind: str
    factors: tuple[tuple[dt.date, Decimal], ...]  # ascending by date
    reference: str

    def factor_on(self, on: dt.date) -> Decimal | None:
        current = None
        for since, factor in self.factors:
            if since <= on:
                current = factor
        return current


@lru_cache
def links() -> dict[str, Link]:
    raw = yaml.safe_load(LINKS_FILE.read_text(encoding="utf-8"))
    out = {}
    for kind, spec in raw.items():
        factors = tuple(sorted((dt.date.fromisoformat(str(d)), Decimal(str(f)))
                               for d, f in spec["factor"].items()))
        out[kind] = Link(kind, factors, spec["reference"]["title"])
    return out


def derive_linked(dibao_fen: int, on: dt.date) -> dict[str, int]:
    """The linked standards (fen) for a dibao standard, rounded to whole yuan as
    published (half up)."""
    out = {}
    for kind, link in links().items():
        factor = link.factor_on(on)
        if factor is None:
            continue
        yuan = (Decimal(dibao_fen) * factor / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        out[kind] = int(yuan) * 100
    return out


# --- standards as rule inputs -----------------------------------------------------------------
# The ONE mapping from stored kinds to the rules' local input variables; used for a single
# household (`service.local_policy_for`) and for whole registers (`service.household_standards`).

#: stored kind → rule input variable (rules/variables/local). Kinds not listed here are not
#: inputs of the rules: the edge income line follows from edge_multiplier × dibao inside the
#: rules, and the temporary-assistance cap and special-group amounts are not assessed in batch.
RULE_INPUTS = {
    "dibao": "dibao_standard",
    "extremely_poor_basic": "extremely_poor_basic_standard",
    "care_self_care": "care_standard_self_care",
    "care_partial": "care_standard_partial",
    "care_full": "care_standard_full",
}
CARE_KINDS = ("care_self_care", "care_partial", "care_full")


def rule_values(values: dict[str, int]) -> dict[str, int]:
    """Stored standards (kind → fen) → rule input variable → fen. Care standards count only
    when all three levels are set (a place with one level set would mix local and default)."""
    out = {RULE_INPUTS[k]: v for k, v in values.items() if k in RULE_INPUTS and k not in CARE_KINDS}
    if all(k in values for k in CARE_KINDS):
        out.update({RULE_INPUTS[k]: values[k] for k in CARE_KINDS})
    return out


def _round_fen(fen: np.ndarray) -> np.ndarray:
    """To the fen, half up (amounts are positive)."""
    return np.floor(np.asarray(fen, dtype=np.float64) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class RuleDefaults:
    """The rules' dated defaults on a date (fen), for places without a stored value."""
    dibao: dict[str, int]  # registration → fen
    extremely_poor_basic: dict[str, int]
    basic_min_ratio: Decimal  # extremely-poor basic standard ≥ ratio × dibao standard
    care: dict[str, int]  # care kind → fen


@dataclass
class HouseholdStandards:
    """The local standards each household is assessed with (fen, one value per household).

    `source_*` says where a value came from: "store" (the standards table), "default" (the
    rules' dated parameter) or "derived" (linked to a changed dibao standard)."""
    on: dt.date
    registrations: np.ndarray
    dibao_fen: np.ndarray
    extremely_poor_basic_fen: np.ndarray
    care_fen: dict[str, np.ndarray]  # care kind → fen per household
    dibao_stored: np.ndarray  # bool
    basic_stored: np.ndarray  # bool
    care_stored: np.ndarray  # bool

    def columns(self) -> dict[str, np.ndarray]:
        """The `local` columns of `analytics.adapter.to_assess_inputs` (rule variables, yuan)."""
        out = {RULE_INPUTS["dibao"]: self.dibao_fen / 100.0,
               RULE_INPUTS["extremely_poor_basic"]: self.extremely_poor_basic_fen / 100.0}
        for kind in CARE_KINDS:
            out[RULE_INPUTS[kind]] = self.care_fen[kind] / 100.0
        return out

    def provenance(self) -> dict:
        n = len(self.dibao_fen)
        return {"on": self.on.isoformat(), "households": n,
                "dibao_from_store": int(self.dibao_stored.sum()),
                "extremely_poor_basic_from_store": int(self.basic_stored.sum()),
                "care_from_store": int(self.care_stored.sum())}

    def with_dibao(self, new_dibao_fen: np.ndarray, *, keep_linked: bool = False) -> HouseholdStandards:
        """The standards after the dibao standard changes to `new_dibao_fen` (dynamic
        adjustment): where a household's dibao standard moves, the linked kinds that are rule
        inputs move with it by links.yaml (extremely-poor basic = factor × dibao, whole yuan
        half up); where it does not move, nothing moves. `keep_linked` keeps every linked kind
        as it is (only dibao changes)."""
        new = np.asarray(new_dibao_fen, dtype=np.int64)
        basic = self.extremely_poor_basic_fen.copy()
        if not keep_linked:
            link = links().get("extremely_poor_basic")
            factor = link.factor_on(self.on) if link else None
            moved = new != self.dibao_fen
            if factor is not None and moved.any():
                # derive_linked's rounding, vectorised and exact: fen × factor → whole yuan, half up
                num, den = factor.as_integer_ratio()
                yuan = (2 * new[moved] * num + den * 100) // (2 * den * 100)
                basic[moved] = yuan * 100
        return HouseholdStandards(on=self.on, registrations=self.registrations, dibao_fen=new,
                                  extremely_poor_basic_fen=basic, care_fen=dict(self.care_fen),
                                  dibao_stored=self.dibao_stored, basic_stored=self.basic_stored,
                                  care_stored=self.care_stored)


def household_standards(stored: list[dict[str, int]], index: np.ndarray, registrations: np.ndarray,
                        defaults: RuleDefaults, on: dt.date) -> HouseholdStandards:
    """Spread per-place stored standards (`stored[i]`: kind → fen of place i) over households
    (`index[h]`: the place of household h), with the rules' defaults where a place has none.
    A place with a dibao standard but no basic standard gets the rules' own default: the
    provincial basic standard while dibao is the provincial default, else the floor
    ratio × dibao (rules/variables/local/extremely_poor_basic_standard.py)."""
    n_places = len(stored)
    urban = np.asarray(registrations) == "urban"
    index = np.asarray(index, dtype=np.int64)
    values = [rule_values(s) for s in stored]

    def place_column(var: str) -> tuple[np.ndarray, np.ndarray]:
        col = np.array([v.get(var, -1) for v in values], dtype=np.int64).reshape(n_places)
        per_h = col[index] if len(index) else np.zeros(0, np.int64)
        return per_h, per_h >= 0

    dibao, dibao_stored = place_column("dibao_standard")
    default_dibao = np.where(urban, defaults.dibao["urban"], defaults.dibao["rural"])
    dibao = np.where(dibao_stored, dibao, default_dibao)
    basic, basic_stored = place_column("extremely_poor_basic_standard")
    default_basic = np.where(urban, defaults.extremely_poor_basic["urban"],
                             defaults.extremely_poor_basic["rural"])
    floor = _round_fen(dibao * float(defaults.basic_min_ratio))
    basic = np.where(basic_stored, basic, np.where(dibao == default_dibao, default_basic, floor))
    care: dict[str, np.ndarray] = {}
    care_stored = np.zeros(len(index), dtype=bool)
    for kind in CARE_KINDS:
        col, stored_mask = place_column(RULE_INPUTS[kind])
        care[kind] = np.where(stored_mask, col, defaults.care[kind])
        care_stored = stored_mask
    return HouseholdStandards(on=on, registrations=np.asarray(registrations),
                              dibao_fen=dibao.astype(np.int64),
                              extremely_poor_basic_fen=basic.astype(np.int64), care_fen=care,
                              dibao_stored=dibao_stored, basic_stored=basic_stored, care_stored=care_stored)
