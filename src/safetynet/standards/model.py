"""Local assistance standards as data (DOMAIN.md §2: [local] values set by each county).

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
