"""The feed contract (docs/contracts/feeds.md) as data, and the file-name rule.

Pure: no I/O, no database. Which specific columns are *required* is not spelled out in the
contract; the choice here is each feed's identifying fields (its event date, kind, amount
...), and a required column must be present in the header while a required cell that is
empty sends its row to quarantine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from safetynet.errors import SafetynetError
from safetynet.tabular import SUPPORTED_SUFFIXES, Column


class Delivery(StrEnum):
    EVENTS = "events"
    MONTHLY = "monthly"
    SNAPSHOT = "snapshot"
    ON_REQUEST = "on_request"


class Kind(StrEnum):
    DATE = "date"
    MONTH = "month"
    MONEY = "money"  # yuan, ≤2 decimals → int64 fen
    DECIMAL = "decimal"  # non-money quantity with ≤2 decimals (area) → decimal128(14, 2)
    ENUM = "enum"
    TEXT = "text"
    INT = "int"
    ID = "id"  # a resident identity number (cadre_id_number)
    REGION = "region"  # 12-digit administrative code


@dataclass(frozen=True)
class FeedColumn:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    values: tuple[str, ...] = ()  # ENUM values
    range: tuple[int, int] | None = None  # INT bounds, inclusive

    def as_column(self) -> Column:
        return Column(self.name, self.label, self.required)


COMMON_COLUMNS: tuple[FeedColumn, ...] = (
    FeedColumn("record_id", "记录编号", Kind.TEXT, True),
    FeedColumn("id_number", "身份证号", Kind.ID, True),
    FeedColumn("name", "姓名", Kind.TEXT, True),
    FeedColumn("birth_date", "出生日期", Kind.DATE),
    FeedColumn("region", "行政区划代码", Kind.REGION),
)


@dataclass(frozen=True)
class Feed:
    name: str
    department: str
    delivery: Delivery
    columns: tuple[FeedColumn, ...]  # feed-specific
    id_may_be_empty: bool = False
    common: tuple[FeedColumn, ...] = field(default=COMMON_COLUMNS, repr=False)

    @property
    def all_columns(self) -> tuple[FeedColumn, ...]:
        return self.common + self.columns

    def contract_columns(self) -> list[Column]:
        """The columns for `tabular.read_table`. id_number must be in the header even where
        its cells may be empty."""
        return [c.as_column() for c in self.all_columns]


def _c(name: str, label: str, kind: Kind = Kind.TEXT, required: bool = False,
       values: tuple[str, ...] = (), range: tuple[int, int] | None = None) -> FeedColumn:  # noqa: A002
    return FeedColumn(name, label, kind, required, values, range)


D, M, Y, E, T = Kind.DATE, Kind.MONTH, Kind.MONEY, Kind.ENUM, Kind.TEXT

FEEDS: tuple[Feed, ...] = (
    Feed("population", "public security 公安 (户籍)", Delivery.EVENTS, (
        _c("sex", "性别", E, values=("M", "F")), _c("hukou_region", "户籍地代码"),
        _c("household_no", "户号"), _c("relation", "与户主关系"),
        _c("event", "事件", E, True, ("birth", "death", "move_in", "move_out", "marriage",
                                     "divorce", "update")),
        _c("event_date", "事件日期", D, True))),
    Feed("death", "civil affairs / health 殡葬·卫健", Delivery.EVENTS, (
        _c("death_date", "死亡日期", D, True), _c("source", "来源"))),
    Feed("social_insurance", "human resources 人社", Delivery.MONTHLY, (
        _c("month", "月份", M, True),
        _c("kind", "类别", E, True, ("wage", "pension", "unemployment_benefit")),
        _c("employer", "单位"), _c("amount", "金额", Y, True))),
    Feed("unemployment", "human resources 人社", Delivery.SNAPSHOT, (
        _c("registered_on", "登记日期", D, True), _c("ended_on", "终止日期", D))),
    Feed("medical", "medical insurance 医保", Delivery.EVENTS, (
        _c("settled_on", "结算日期", D, True),
        _c("kind", "类别", E, True, ("inpatient", "outpatient", "chronic", "critical")),
        _c("total_cost", "总费用", Y, True), _c("fund_paid", "统筹支付", Y),
        _c("out_of_pocket", "个人自付", Y), _c("diagnosis_group", "病种")), id_may_be_empty=True),
    Feed("disability", "disabled persons' federation 残联", Delivery.SNAPSHOT, (
        _c("category", "残疾类别", E, True, ("physical", "visual", "hearing", "speech",
                                         "intellectual", "mental", "multiple")),
        _c("grade", "等级", Kind.INT, True, range=(1, 4)), _c("issued_on", "发证日期", D),
        _c("status", "状态", E, True, ("valid", "revoked")))),
    Feed("education", "education 教育", Delivery.SNAPSHOT, (
        _c("stage", "学段", E, True, ("preschool", "primary", "junior", "senior", "vocational",
                                    "college")),
        _c("school", "学校"), _c("enrolled_on", "入学日期", D), _c("left_on", "离校日期", D),
        _c("annual_fees", "年学杂费", Y))),
    Feed("vehicle", "public security traffic 车管", Delivery.SNAPSHOT, (
        _c("plate", "号牌", T, True),
        _c("vehicle_type", "车辆类型", E, True, ("car", "truck", "motorcycle", "disability_vehicle",
                                             "farm")),
        _c("registered_on", "登记日期", D), _c("deregistered_on", "注销日期", D),
        _c("price", "购置价", Y))),
    Feed("property", "real-estate registry 不动产", Delivery.SNAPSHOT, (
        _c("property_no", "不动产单元号", T, True), _c("area_m2", "面积", Kind.DECIMAL),
        _c("use", "用途", E, True, ("residential", "commercial", "other")),
        _c("registered_on", "登记日期", D), _c("deregistered_on", "注销日期", D))),
    Feed("business", "market regulation 市场监管", Delivery.SNAPSHOT, (
        _c("entity_name", "市场主体名称", T, True),
        _c("role", "身份", E, True, ("legal_rep", "shareholder", "owner")),
        _c("registered_capital", "注册资本", Y), _c("established_on", "成立日期", D),
        _c("status", "状态", E, True, ("active", "cancelled")))),
    Feed("housing_fund", "housing fund 公积金", Delivery.MONTHLY, (
        _c("month", "月份", M, True), _c("deposit", "缴存额", Y, True))),
    Feed("disaster", "emergency management 应急", Delivery.EVENTS, (
        _c("event_type", "灾害类型", T, True), _c("occurred_on", "发生日期", D, True),
        _c("loss_estimate", "损失估计", Y))),
    Feed("hotline", "12345 hotline", Delivery.EVENTS, (
        _c("received_at", "受理时间", D, True), _c("phone", "电话"),
        _c("category", "类别", E, True, ("help_request", "complaint", "report")),
        _c("text", "内容")), id_may_be_empty=True),
    Feed("anti_relapse", "agriculture 农业农村", Delivery.SNAPSHOT, (
        _c("type", "类型", E, True, ("unstable", "edge", "sudden")),
        _c("identified_on", "认定日期", D, True), _c("removed_on", "解除日期", D))),
    Feed("deposits", "banks 银行", Delivery.ON_REQUEST, (
        _c("as_of", "截至日期", D, True), _c("balance", "余额", Y, True), _c("institution", "机构"))),
    Feed("cadre_relatives", "organisation dept. 组织部", Delivery.SNAPSHOT, (
        _c("cadre_id_number", "干部身份证号", Kind.ID, True), _c("cadre_name", "干部姓名", T, True),
        _c("post", "职务"), _c("relation", "关系"))),
)
FEED_BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}

LINKAGE_REASON = "id_number missing/invalid: awaiting record linkage"


class FeedFileNameError(SafetynetError):
    """A delivered file's name does not follow `<feed>_<YYYYMM>[_<part>].<ext>`."""


@dataclass(frozen=True)
class FeedFileName:
    feed: Feed
    month: str  # YYYY-MM
    part: str | None
    suffix: str


_NAME = re.compile(r"^(?P<feed>[a-z_]+?)_(?P<ym>\d{6})(?:_(?P<part>\d{1,4}))?(?P<ext>\.[A-Za-z]+)$")


def parse_file_name(name: str) -> FeedFileName:
    """`medical_202510.csv` → (medical, 2025-10, None, .csv); a clear error otherwise."""
    form = ("expected <feed>_<YYYYMM>[_<part>].<csv|xlsx|parquet>, e.g. medical_202510.csv or "
            "social_insurance_202510_02.parquet")
    m = _NAME.match(name)
    if not m:
        raise FeedFileNameError(f"{name}: file name does not follow the contract; {form}")
    feed = FEED_BY_NAME.get(m["feed"])
    if feed is None:
        raise FeedFileNameError(f"{name}: unknown feed {m['feed']!r}; feeds are "
                                f"{', '.join(FEED_BY_NAME)}")
    ym = m["ym"]
    if not 1 <= int(ym[4:]) <= 12 or int(ym[:4]) < 1900:
        raise FeedFileNameError(f"{name}: {ym} is not a month; {form}")
    suffix = m["ext"].lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FeedFileNameError(f"{name}: unsupported file type {suffix}; expected .csv, .xlsx or .parquet")
    return FeedFileName(feed, f"{ym[:4]}-{ym[4:]}", m["part"], suffix)


#: The feeds each partner department delivers, by the department ids of user accounts
#: (auth.model.DEPARTMENTS): a department liaison sees the ledger of these feeds only.
FEEDS_BY_DEPARTMENT: dict[str, tuple[str, ...]] = {
    "medical_insurance": ("medical",),
    "education": ("education",),
    "hr_social_security": ("social_insurance", "unemployment"),
    "housing": ("housing_fund", "property"),
    "emergency_management": ("disaster",),
    "health": ("death",),
    "disabled_persons": ("disability",),
}
