"""Calibration targets, the feed contract and small pure helpers for the synthetic province.

Every number that shapes the synthetic population lives here, next to where it comes from.
Figures marked [DOMAIN] are published Shandong/national figures quoted in
docs/policy.md; figures marked [assumption] are ours, chosen to look plausible, and are the
knobs to turn when better data is available.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------
# Tiers (codes are indexes into TIERS)
# --------------------------------------------------------------------------------------
TIERS = (
    "dibao", "extremely_poor", "dibao_edge", "rigid_expenditure", "anti_relapse",
    "other_concern", "none",
)
DIBAO, EP, EDGE, RIGID, ANTI, OTHER, NONE = range(7)
ENROLLED_TIERS = (DIBAO, EP)  # receive a monthly cash benefit

# Person shares of the monitored population. Shandong end-2024 [DOMAIN]: 1.361M dibao and
# 346k extremely poor among 1.92M low-income + 8.57M other people of concern ≈ 10.5M
# monitored → dibao 13.0 %, extremely poor 3.3 %. How the 8.57M split into edge, rigid
# expenditure, anti-relapse and other concern is not published: the split below is our
# [assumption], guided by the national Oct 2023 mix (6M+ edge, 3M+ anti-relapse of 66M).
TIER_SHARES = {
    DIBAO: 0.130,
    EP: 0.033,
    EDGE: 0.050,
    RIGID: 0.015,
    ANTI: 0.030,
    OTHER: 0.742,
}
TIER_SHARE_SOURCES = {
    DIBAO: "Shandong end-2024: 1.361M dibao of ~10.5M monitored (docs/policy.md §1)",
    EP: "Shandong end-2024: 346k extremely poor of ~10.5M monitored (docs/policy.md §1)",
    EDGE: "assumption: part of the 8.57M other people of concern",
    RIGID: "assumption: part of the 8.57M other people of concern",
    ANTI: "assumption: part of the 8.57M other people of concern",
    OTHER: "remainder of the 8.57M other people of concern",
}

# --------------------------------------------------------------------------------------
# Households [assumption]: composition types and their mix per tier
# --------------------------------------------------------------------------------------
HTYPES = (
    "single_elder", "single_adult", "single_minor", "elder_couple", "nuclear", "three_gen",
    "skip_gen", "siblings",
)
SINGLE_ELDER, SINGLE_ADULT, SINGLE_MINOR, ELDER_COUPLE, NUCLEAR, THREE_GEN, SKIP_GEN, SIBLINGS = (
    range(8)
)
# Extremely poor: mostly elderly living alone, some disabled adults and orphans; a few
# elderly couples who both qualify. Dibao: small households, many elderly or disabled.
HTYPE_MIX = {
    DIBAO: (0.30, 0.18, 0.00, 0.20, 0.18, 0.04, 0.07, 0.03),
    EP: (0.78, 0.10, 0.04, 0.08, 0.00, 0.00, 0.00, 0.00),
    EDGE: (0.15, 0.05, 0.00, 0.20, 0.40, 0.15, 0.05, 0.00),
    RIGID: (0.10, 0.05, 0.00, 0.15, 0.45, 0.20, 0.05, 0.00),
    ANTI: (0.10, 0.00, 0.00, 0.15, 0.40, 0.25, 0.10, 0.00),
    OTHER: (0.20, 0.05, 0.00, 0.25, 0.33, 0.12, 0.05, 0.00),
}
# Size distributions of the variable-size types: {size: probability}
HTYPE_SIZES = {
    NUCLEAR: {2: 0.22, 3: 0.48, 4: 0.24, 5: 0.06},
    THREE_GEN: {4: 0.45, 5: 0.40, 6: 0.15},
    SKIP_GEN: {2: 0.35, 3: 0.45, 4: 0.20},
    SIBLINGS: {2: 0.85, 3: 0.15},
}
DIBAO_MAX_SIZE = 4
# Share of households living in an urban community, by tier [assumption; rural dibao far
# outnumbers urban nationally; anti-relapse targets are rural by definition].
URBAN_SHARE = {DIBAO: 0.18, EP: 0.10, EDGE: 0.25, RIGID: 0.35, ANTI: 0.0, OTHER: 0.40}
SINGLE_DIBAO_IN_EDGE = 0.35  # of edge households with a grade 1–2 member: 单人保 [assumption]

# --------------------------------------------------------------------------------------
# Disability [assumption around the ~6 % national prevalence; higher in low-income tiers]
# --------------------------------------------------------------------------------------
DISABILITY_BASE = {DIBAO: 0.15, EP: 0.28, EDGE: 0.07, RIGID: 0.08, ANTI: 0.05, OTHER: 0.025}
DISABILITY_AGE_FACTOR = ((0, 0.4), (18, 1.0), (60, 1.4))  # (from age, factor)
DISABILITY_CATEGORIES = (
    "physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple",
)
PHYSICAL, VISUAL, HEARING, SPEECH, INTELLECTUAL, MENTAL, MULTIPLE = range(7)
DISABILITY_CATEGORY_P = (0.32, 0.14, 0.18, 0.02, 0.09, 0.10, 0.15)
DISABILITY_GRADE_P = (0.18, 0.27, 0.28, 0.27)  # grades 1..4

# Extremely poor: care level and support form [assumption: most self-caring and at home]
CARE_LEVELS = ("self_care", "partial", "full")
SUPPORT_FORMS = ("centralised", "dispersed")
CARE_P = (0.72, 0.19, 0.09)
CARE_P_SEVERE = (0.25, 0.40, 0.35)
CENTRALISED_P = 0.12
CENTRALISED_P_MINOR_OR_FULL = 0.55

# --------------------------------------------------------------------------------------
# Local standards [DOMAIN]: Shandong end-2024 averages, yuan/person/month
# --------------------------------------------------------------------------------------
STANDARD_BASE_YEAR = 2024
DIBAO_STANDARD = {"urban": 1010, "rural": 838}
EP_BASIC_STANDARD = {"urban": 1353, "rural": 1126}
ANNUAL_STEP = 1.07  # each January; Shandong raised dibao 7.0 % (urban) / 9.0 % (rural) in 2024
DISTRICT_FACTOR = (1.00, 1.14)  # city districts above the average, counties below
COUNTY_FACTOR = (0.88, 1.02)
# Last year's per-capita disposable income, yuan/month [assumption ≈ Shandong 2024]: the
# ceiling for rigid-expenditure families.
DISPOSABLE_INCOME = {"urban": 4400, "rural": 2050}

# --------------------------------------------------------------------------------------
# Income: per-capita counted income of a household as a multiple of its dibao standard
# --------------------------------------------------------------------------------------
# (share with no counted income, low, high). Low bounds multiply the highest standard of the
# covered period and high bounds the start standard, so a January step cannot push a family
# across a line; the margins (e.g. 1.05, not 1.0) absorb the ±3 % monthly wage noise.
INCOME_RATIO = {
    DIBAO: (0.40, 0.10, 0.88),
    EP: (0.75, 0.05, 0.45),
    EDGE: (0.0, 1.05, 1.42),
    RIGID: (0.0, 1.58, None),  # high: 0.95 × disposable income
    ANTI: (0.0, 1.58, 2.5),
    OTHER: (0.0, 1.58, 3.2),
}
WAGE_NOISE = 0.03
SECOND_EARNER_P = 0.10
HOUSING_FUND_P = {True: 0.30, False: 0.08}  # of wage earners, urban / rural
RETIREMENT_AGE = 60
# Rigid-expenditure families carry a chronic patient whose monthly out-of-pocket medical
# cost is this share of the family's monthly income (so 12-month costs exceed the 75 %
# Weihai threshold [DOMAIN]).
RIGID_OOP_SHARE = (0.80, 1.10)

# --------------------------------------------------------------------------------------
# Planted events: density per 1,000 persons per month [assumption]. One place to turn.
# --------------------------------------------------------------------------------------
EVENT_RATES = {
    "income_drop": 2.0,
    "medical_large": 2.5,
    "new_disability": 1.0,
    "main_earner_death": 0.15,  # on top of natural mortality, among main earners
    "new_unemployment": 0.8,  # registrations without a preceding job loss in the feeds
    "disaster_loss": 1.5,  # yearly mean; June–September weighted ×2.5
    "hotline_help": 1.5,
    "anti_relapse": 0.8,
    "new_car": 0.4,
    "new_property": 0.4,
    "new_business": 0.4,
    "cadre_relative": 0.05,  # enrolled relatives of cadres, mostly present from the start
}
EVENT_KINDS = (
    "income_drop", "medical_large", "new_disability", "death", "new_unemployment",
    "education_entry", "disaster_loss", "hotline_help", "anti_relapse", "new_car",
    "new_property", "new_business", "cadre_relative",
)
OUTSIDE_SHARE = {  # share of an event kind that hits people not in the register
    "medical_large": 0.30, "hotline_help": 0.50, "disaster_loss": 0.35, "anti_relapse": 0.50,
}
OUTSIDE_POOL = 0.06  # people outside the register, as a share of registered persons
CADRES_PER_PERSON = 0.0005
# Background volumes [assumption], per person per month unless stated
MEDICAL_P = 0.075  # plus rigid-family chronic rows and planted bills ≈ 8 %
LARGE_OOP_MIN = 15_000_00  # fen: planted bills start here; background bills stay below
HOTLINE_OTHER_P = 0.0008  # complaints and reports
POPULATION_EVENT_P = {"move_in": 0.0004, "move_out": 0.0004, "marriage": 0.0003,
                      "divorce": 0.0001, "update": 0.0008}
BIRTH_P = 0.0004  # births into register households
MORTALITY = (-9.6, 0.086)  # Gompertz: annual q = exp(a + b·age) [assumption ≈ China life table]
LOW_INCOME_MORTALITY = 1.3
DOUBLE_DEATH_REPORT_P = 0.10  # a death reported by both funeral home and hospital
SNAPSHOT_KEEP_DAYS = 92  # ended records stay in a snapshot for a quarter, then drop out
BAD_ID_FEEDS = ("medical", "hotline")
BAD_ID_RATE = 0.02
BAD_ID_KINDS = ("missing", "typo", "transposed", "wrong_valid")
BAD_ID_KIND_P = (0.30, 0.35, 0.25, 0.10)
BAD_ID_NO_BIRTH_DATE_P = 0.20
BAD_ID_NAME_VARIANT_P = 0.05

# --------------------------------------------------------------------------------------
# The feed contract (docs/contracts/feeds.md): (column, Chinese label, type)
# --------------------------------------------------------------------------------------
COMMON_COLUMNS = (
    ("record_id", "记录编号", "str"),
    ("id_number", "身份证号", "str"),
    ("name", "姓名", "str"),
    ("birth_date", "出生日期", "date"),
    ("region", "行政区划代码", "str"),
)


@dataclass(frozen=True)
class FeedSpec:
    name: str
    delivery: str  # events | monthly | snapshot | on_request
    prefix: str  # record_id prefix
    columns: tuple[tuple[str, str, str], ...]  # feed-specific (name, label, type)

    @property
    def all_columns(self) -> tuple[tuple[str, str, str], ...]:
        return COMMON_COLUMNS + self.columns


FEEDS = (
    FeedSpec("population", "events", "GA", (
        ("sex", "性别", "str"), ("hukou_region", "户籍地代码", "str"),
        ("household_no", "户号", "str"), ("relation", "与户主关系", "str"),
        ("event", "事件", "str"), ("event_date", "事件日期", "date"))),
    FeedSpec("death", "events", "SW", (
        ("death_date", "死亡日期", "date"), ("source", "来源", "str"))),
    FeedSpec("social_insurance", "monthly", "SI", (
        ("month", "月份", "month"), ("kind", "类别", "str"), ("employer", "单位", "str"),
        ("amount", "金额", "money"))),
    FeedSpec("unemployment", "snapshot", "SY", (
        ("registered_on", "登记日期", "date"), ("ended_on", "终止日期", "date"))),
    FeedSpec("medical", "events", "YB", (
        ("settled_on", "结算日期", "date"), ("kind", "类别", "str"),
        ("total_cost", "总费用", "money"), ("fund_paid", "统筹支付", "money"),
        ("out_of_pocket", "个人自付", "money"), ("diagnosis_group", "病种", "str"))),
    FeedSpec("disability", "snapshot", "CL", (
        ("category", "残疾类别", "str"), ("grade", "等级", "int"),
        ("issued_on", "发证日期", "date"), ("status", "状态", "str"))),
    FeedSpec("education", "snapshot", "JY", (
        ("stage", "学段", "str"), ("school", "学校", "str"), ("enrolled_on", "入学日期", "date"),
        ("left_on", "离校日期", "date"), ("annual_fees", "年学杂费", "money"))),
    FeedSpec("vehicle", "snapshot", "CG", (
        ("plate", "号牌", "str"), ("vehicle_type", "车辆类型", "str"),
        ("registered_on", "登记日期", "date"), ("deregistered_on", "注销日期", "date"),
        ("price", "购置价", "money"))),
    FeedSpec("property", "snapshot", "BDC", (
        ("property_no", "不动产单元号", "str"), ("area_m2", "面积", "money"),
        ("use", "用途", "str"), ("registered_on", "登记日期", "date"),
        ("deregistered_on", "注销日期", "date"))),
    FeedSpec("business", "snapshot", "SC", (
        ("entity_name", "市场主体名称", "str"), ("role", "身份", "str"),
        ("registered_capital", "注册资本", "money"), ("established_on", "成立日期", "date"),
        ("status", "状态", "str"))),
    FeedSpec("housing_fund", "monthly", "GJJ", (
        ("month", "月份", "month"), ("deposit", "缴存额", "money"))),
    FeedSpec("disaster", "events", "YJ", (
        ("event_type", "灾害类型", "str"), ("occurred_on", "发生日期", "date"),
        ("loss_estimate", "损失估计", "money"))),
    FeedSpec("hotline", "events", "RX", (
        ("received_at", "受理时间", "date"), ("phone", "电话", "str"),
        ("category", "类别", "str"), ("text", "内容", "str"))),
    FeedSpec("anti_relapse", "snapshot", "FP", (
        ("type", "类型", "str"), ("identified_on", "认定日期", "date"),
        ("removed_on", "解除日期", "date"))),
    FeedSpec("deposits", "on_request", "YH", (
        ("as_of", "截至日期", "date"), ("balance", "余额", "money"),
        ("institution", "机构", "str"))),
    FeedSpec("cadre_relatives", "snapshot", "ZZ", (
        ("cadre_id_number", "干部身份证号", "str"), ("cadre_name", "干部姓名", "str"),
        ("post", "职务", "str"), ("relation", "关系", "str"))),
)
FEED_BY_NAME = {f.name: f for f in FEEDS}


@dataclass(frozen=True)
class FileFormat:
    """How one feed is written: container, text encoding, header language, date style."""

    kind: str = "csv"  # csv | xlsx | parquet
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | gb18030 (CSV only)
    headers: str = "en"  # en | zh
    date_style: str = "iso"  # iso YYYY-MM-DD | slash YYYY/MM/DD | compact YYYYMMDD
    part_rows: int | None = None  # split into _01, _02… parts above this many rows


# `mixed`: how departments really deliver (feeds.md) — most CSV UTF-8, public security and
# the disabled persons' federation export GBK with Chinese headers, the organisation
# department a small workbook, human resources its big monthly tables as Parquet parts.
MIXED_FORMATS = {
    "population": FileFormat("csv", "gb18030", "zh", "compact"),
    "death": FileFormat("csv", "utf-8-sig", "en", "slash"),
    "social_insurance": FileFormat("parquet", part_rows=1_000_000),
    "disability": FileFormat("csv", "gb18030", "zh"),
    "disaster": FileFormat("csv", "utf-8-sig", "zh"),
    "housing_fund": FileFormat("parquet"),
    "cadre_relatives": FileFormat("xlsx", headers="zh"),
}
FORMAT_CHOICES = ("mixed", "csv", "parquet")


def feed_format(feed: str, fmt: str, part_rows: int | None = None) -> FileFormat:
    if fmt not in FORMAT_CHOICES:
        raise ValueError(f"format must be one of {', '.join(FORMAT_CHOICES)}, got {fmt!r}")
    if fmt == "csv":
        return FileFormat("csv")
    if fmt == "parquet":
        big = part_rows or 1_000_000
        return FileFormat("parquet", part_rows=big if feed == "social_insurance" else None)
    chosen = MIXED_FORMATS.get(feed, FileFormat("csv"))
    if part_rows is not None and chosen.part_rows is not None:
        chosen = FileFormat(chosen.kind, chosen.encoding, chosen.headers, chosen.date_style,
                            part_rows)
    return chosen


# --------------------------------------------------------------------------------------
# Pure helpers: months and days (days are int32 counts since 1970-01-01)
# --------------------------------------------------------------------------------------
NO_DAY = np.int32(2**31 - 1)  # "never" / "no date"


def parse_month(text: str) -> tuple[int, int]:
    """"2025-01" or "202501" → (2025, 1)."""
    digits = text.replace("-", "")
    if len(digits) != 6 or not digits.isdigit() or not 1 <= int(digits[4:]) <= 12:
        raise ValueError(f"month must be YYYY-MM, got {text!r}")
    return int(digits[:4]), int(digits[4:])


def month_bounds(start_month: str, months: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of each covered month as int32 day numbers."""
    year, month = parse_month(start_month)
    first = np.datetime64(f"{year:04d}-{month:02d}", "M") + np.arange(months + 1)
    days = first.astype("datetime64[D]").astype(np.int64)
    return days[:-1].astype(np.int32), (days[1:] - 1).astype(np.int32)


def month_labels(start_month: str, months: int) -> list[str]:
    year, month = parse_month(start_month)
    first = np.datetime64(f"{year:04d}-{month:02d}", "M") + np.arange(months)
    return [str(m) for m in first]


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
