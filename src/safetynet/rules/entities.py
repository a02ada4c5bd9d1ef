"""The two OpenFisca entities: a person, and the household (共同生活家庭) they belong to."""

from __future__ import annotations

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="Person 个人",
    doc="One resident. Tiers, care level and the extremely-poor support are decided per person.",
    is_person=True,
)

Household = build_entity(
    key="household",
    plural="households",
    label="Household 共同生活家庭",
    doc="The co-resident family assessed as a unit for dibao, dibao-edge and rigid expenditure.",
    roles=[{"key": "member", "plural": "members", "label": "Member 家庭成员",
            "doc": "Every member listed for the household, including those excluded from the unit."}],
)

entities = [Person, Household]
