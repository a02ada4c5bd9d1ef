"""Registry vocabulary and the register-import contract (docs/contracts/registry.md).

Plain values only: tiers, relations and the column contract; no database or I/O.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from safetynet.tabular import Column


class Tier(StrEnum):
    """Ordered by depth of need, deepest first (docs/policy.md §2)."""

    extremely_poor = "extremely_poor"
    dibao = "dibao"
    dibao_edge = "dibao_edge"
    rigid_expenditure = "rigid_expenditure"
    anti_relapse = "anti_relapse"
    other_concern = "other_concern"
    none = "none"


TIER_LABELS = {
    "dibao": "低保",
    "extremely_poor": "特困",
    "dibao_edge": "低保边缘",
    "rigid_expenditure": "刚性支出困难",
    "anti_relapse": "防返贫监测",
    "other_concern": "其他关注",
    "none": "无",
}
TIER_DEPTH = {t.value: i for i, t in enumerate(Tier)}  # 0 is deepest

RELATION_LABELS = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "sibling": "兄弟姐妹",
    "other": "其他",
}
REGISTRATION_LABELS = {"urban": "城镇", "rural": "农村"}
SEX_LABELS = {"M": "男", "F": "女"}
SUPPORT_FORM_LABELS = {"centralised": "集中", "dispersed": "分散"}
CARE_LEVEL_LABELS = {"self_care": "全自理", "partial": "半护理", "full": "全护理"}

HOUSEHOLD_COLUMNS = [
    Column("household_id", "家庭编号", required=True),
    Column("region", "行政区划代码", required=True),
    Column("registration", "户籍性质", required=True),
    Column("address", "地址"),
    Column("grid", "网格"),
    Column("phone", "联系电话"),
]

PERSON_COLUMNS = [
    Column("household_id", "家庭编号", required=True),
    Column("id_number", "身份证号", required=True),
    Column("name", "姓名", required=True),
    Column("sex", "性别"),
    Column("birth_date", "出生日期"),
    Column("relation", "与户主关系", required=True),
    Column("tier", "救助类别"),
    Column("tier_since", "认定日期"),
    Column("support_form", "供养方式"),
    Column("care_level", "护理等级"),
    Column("monthly_benefit", "月救助金额"),
]


def household_tier(member_tiers: list[str], head_tier: str | None = None) -> str:
    """The household's tier as a unit: the tier most of its members hold; on a tie the
    head's, then the deeper one. An extremely poor member or a single-person dibao member
    inside an edge family therefore does not lift the whole household
    (docs/contracts/assess.md); a household of one takes its only member's tier."""
    if not member_tiers:
        return Tier.none.value
    counts = Counter(member_tiers)
    return min(counts, key=lambda t: (-counts[t], t != head_tier, TIER_DEPTH[t]))
