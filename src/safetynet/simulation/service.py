"""`simulate`: the registry assessed twice for a month — with the store's local standards
(baseline) and with the dibao standard changed (reform) — and the difference by county.

Facts are computed once (`analytics.service.household_facts`); the standards come from
`standards.service.household_standards` (the same standards → rule-input adapter the batch
assessment uses: the store's values in force on the month's last day, one lookup per county ×
registration, the rules' dated defaults where the store has none). The reform changes the
dibao standard and, by the dynamic-adjustment links (standards/links.yaml), the linked kinds
that are rule inputs (the extremely-poor basic standard = factor × dibao, whole yuan) — only
where the household's dibao standard actually moves, and not at all with `keep_linked`.
Money is integer fen throughout the result (benefits are rounded to the fen by the rules).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from safetynet.analytics.adapter import to_assess_inputs
from safetynet.analytics.facts import month_window
from safetynet.analytics.service import household_facts, within_region
from safetynet.regions import service as regions_service
from safetynet.rules.service import assess_many
from safetynet.simulation.model import DibaoChange, check_month, check_region, parse_change
from safetynet.spreadsheet import Column, Sheet, write_workbook, yuan
from safetynet.standards import service as standards_service
from safetynet.standards.model import HouseholdStandards

TIERS = ("extremely_poor", "dibao", "dibao_edge", "rigid_expenditure", "none")
TIER_LABELS = {"extremely_poor": "特困", "dibao": "低保", "dibao_edge": "低保边缘",
               "rigid_expenditure": "刚性支出困难", "none": "无"}


@dataclass
class Summary:
    """One county (or the total): counts per tier and monthly cost in fen."""
    code: str
    name: str
    households: int = 0
    baseline: dict[str, int] = field(default_factory=dict)
    reform: dict[str, int] = field(default_factory=dict)
    newly: dict[str, int] = field(default_factory=dict)  # in the tier under the reform only
    left: dict[str, int] = field(default_factory=dict)  # in the tier under the baseline only
    monthly_baseline_fen: int = 0
    monthly_reform_fen: int = 0

    @property
    def monthly_change_fen(self) -> int:
        return self.monthly_reform_fen - self.monthly_baseline_fen

    @property
    def annual_change_fen(self) -> int:
        return self.monthly_change_fen * 12

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "households": self.households,
                "baseline": self.baseline, "reform": self.reform, "newly": self.newly, "left": self.left,
                "monthly_baseline_fen": self.monthly_baseline_fen,
                "monthly_reform_fen": self.monthly_reform_fen,
                "monthly_change_fen": self.monthly_change_fen, "annual_change_fen": self.annual_change_fen}


@dataclass
class SimulationResult:
    month: str
    as_of: dt.date
    change: DibaoChange
    region: str | None
    total: Summary
    counties: list[Summary]
    # per assessed household, in the same order
    household_ids: np.ndarray
    county_codes: np.ndarray
    baseline_tier: np.ndarray
    reform_tier: np.ndarray
    baseline_benefit_fen: np.ndarray
    reform_benefit_fen: np.ndarray
    baseline_dibao_standard_fen: np.ndarray
    reform_dibao_standard_fen: np.ndarray
    baseline_basic_standard_fen: np.ndarray | None = None
    reform_basic_standard_fen: np.ndarray | None = None
    keep_linked: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"month": self.month, "as_of": self.as_of.isoformat(), "dibao_standard": self.change.text,
                "description": self.change.describe(), "region": self.region,
                "linked_standards": "kept" if self.keep_linked else "derived",
                "total": self.total.as_dict(), "counties": [c.as_dict() for c in self.counties],
                "seconds": round(self.seconds, 3)}


def _fen(values: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)


def _summary(code: str, name: str, base_t: np.ndarray, ref_t: np.ndarray, base_b: np.ndarray,
             ref_b: np.ndarray) -> Summary:
    s = Summary(code=code, name=name, households=int(len(base_t)))
    for t in TIERS:
        in_base, in_ref = base_t == t, ref_t == t
        s.baseline[t] = int(in_base.sum())
        s.reform[t] = int(in_ref.sum())
        s.newly[t] = int((in_ref & ~in_base).sum())
        s.left[t] = int((in_base & ~in_ref).sum())
    s.monthly_baseline_fen = sum(int(x) for x in base_b)
    s.monthly_reform_fen = sum(int(x) for x in ref_b)
    return s


def simulate(engine: Engine, *, month: str, dibao_change: str | DibaoChange, region: str | None,
             lake_dir: Path, keep_linked: bool = False) -> SimulationResult:
    """Baseline vs reform for `month` (YYYY-MM), optionally only under `region` (a code prefix).
    The linked standards move with the changed dibao standard (links.yaml) unless
    `keep_linked`. Raises SimulationInputError for a bad month, change or region."""
    t0 = time.perf_counter()
    check_month(month)
    change = dibao_change if isinstance(dibao_change, DibaoChange) else parse_change(dibao_change)
    region = check_region(region)
    _, as_of, _, _ = month_window(month)
    households, persons = household_facts(engine, month=month, lake_dir=Path(lake_dir))
    households, persons = within_region(households, persons, region)
    region_codes = np.asarray(households.column("region_code").to_pylist(), dtype=object).astype(str)
    registrations = np.asarray(households.column("registration").to_pylist(), dtype=object).astype(str)
    counties_all = np.array([c[:6] for c in region_codes], dtype=str) if len(region_codes) else \
        np.zeros(0, dtype=str)
    baseline = standards_service.household_standards(engine, counties=counties_all,
                                                     registrations=registrations, on=as_of)
    base_dibao = baseline.dibao_fen
    ref_dibao = np.array([change.apply(int(x)) for x in base_dibao], dtype=np.int64)
    reform = baseline.with_dibao(ref_dibao, keep_linked=keep_linked)

    def run(standards: HouseholdStandards) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, p, ids = to_assess_inputs(households, persons, local=standards.columns())
        if len(ids) == 0:
            return ids, np.zeros(0, dtype=str), np.zeros(0, np.int64)
        out = assess_many(as_of=as_of, households=h, persons=p)["households"]
        return ids, np.asarray(out["household_tier"]).astype(str), _fen(out["total_benefit"])

    ids, base_t, base_b = run(baseline)
    _, ref_t, ref_b = run(reform)
    keep = households.column("members").to_numpy(zero_copy_only=False) > 0
    counties = counties_all[keep]
    codes = sorted(set(counties.tolist()))
    names = regions_service.names(engine, codes)
    rows = []
    for code in codes:
        m = counties == code
        rows.append(_summary(code, names[code], base_t[m], ref_t[m], base_b[m], ref_b[m]))
    total = _summary(region or "", "合计", base_t, ref_t, base_b, ref_b)
    return SimulationResult(month=month, as_of=as_of, change=change, region=region, total=total,
                            counties=rows, household_ids=ids, county_codes=counties,
                            baseline_tier=base_t, reform_tier=ref_t, baseline_benefit_fen=base_b,
                            reform_benefit_fen=ref_b, baseline_dibao_standard_fen=base_dibao[keep],
                            reform_dibao_standard_fen=ref_dibao[keep],
                            baseline_basic_standard_fen=baseline.extremely_poor_basic_fen[keep],
                            reform_basic_standard_fen=reform.extremely_poor_basic_fen[keep],
                            keep_linked=keep_linked, seconds=time.perf_counter() - t0)


# --- Excel ---------------------------------------------------------------------------------

def _row(s: Summary) -> list:
    out: list = [s.code, s.name, s.households]
    for t in TIERS[:-1]:
        out += [s.baseline[t], s.reform[t], s.newly[t], s.left[t]]
    out += [yuan(s.monthly_baseline_fen), yuan(s.monthly_reform_fen), yuan(s.monthly_change_fen),
            yuan(s.annual_change_fen)]
    return out


def _headers() -> list[str]:
    out = ["区划代码", "县（市、区）", "评估户数"]
    for t in TIERS[:-1]:
        label = TIER_LABELS[t]
        out += [f"{label}户数（现行）", f"{label}户数（调整后）", f"新增{label}户数", f"退出{label}户数"]
    return out + ["月支出（现行，元）", "月支出（调整后，元）", "月支出变化（元）", "年支出变化（元）"]


def to_excel(result: SimulationResult, path: Path) -> Path:
    """Sheets 总表 (the totals) and 分县 (one row per county), Chinese headers, yuan amounts as numbers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = result.total
    items: list[tuple[str, object]] = [
        ("月份", result.month), ("测算日", result.as_of),
        ("调整方案", f"{result.change.text}（{result.change.describe()}）"),
        ("联动标准", "保持不变" if result.keep_linked else "随低保标准联动调整（特困基本生活标准等）"),
        ("范围", result.region or "全部"), ("评估户数", t.households)]
    for tier in TIERS[:-1]:
        label = TIER_LABELS[tier]
        items += [(f"{label}户数（现行）", t.baseline[tier]), (f"{label}户数（调整后）", t.reform[tier]),
                  (f"新增{label}户数", t.newly[tier]), (f"退出{label}户数", t.left[tier])]
    items += [("月支出（现行，元）", yuan(t.monthly_baseline_fen)),
              ("月支出（调整后，元）", yuan(t.monthly_reform_fen)),
              ("月支出变化（元）", yuan(t.monthly_change_fen)),
              ("年支出变化（元）", yuan(t.annual_change_fen))]
    headers = _headers()
    counties = [Column(h, 14 if i < 2 else 12) for i, h in enumerate(headers)]
    write_workbook(path, [
        Sheet("总表", [Column("项目", 24), Column("数值", 30)], items, freeze_header=False),
        Sheet("分县", counties, [_row(s) for s in [*result.counties, result.total]]),
    ])
    return path
