"""Shared inputs of the assessment contract tests."""

from __future__ import annotations

import copy

SPEC_EXAMPLE = {
    "as_of": "2025-07-01",
    "region": "370402001001",
    "registration": "urban",
    "local_policy": {
        "dibao_standard": 941,
        "extremely_poor_basic_standard": 1255,
        "care_standard": {"self_care": 100, "partial": 300, "full": 600},
        "edge_multiplier": 1.5,
        "rigid_expenditure_ratio": 0.75,
        "disposable_income_prev_year_monthly": 3600,
        "asset_limits": {"deposits_months_of_standard": 24, "max_homes": 1,
                         "cars_allowed": False, "business_capital": 100000},
    },
    "members": [
        {"id": "p1", "birth_date": "1950-03-01", "relation": "head",
         "disability": {"category": "intellectual", "grade": 3},
         "self_care_items_failed": 0,
         "student": False, "in_prison": False, "critical_illness": False,
         "income_monthly": {"wage": 0, "business": 0, "property": 0, "transfer": 0,
                            "basic_pension": 0, "assistance": 0, "preferential_pension": 0},
         "supporter": "none"},
    ],
    "assets": {"deposits": 0, "homes": 1, "cars": [], "business_capital": 0},
    "expenditure_12m": {"medical": 0, "education": 0, "rehabilitation": 0, "disaster": 0, "living": 0},
}

SPEC_OUTPUT = {
    "household_tier": "extremely_poor",
    "per_capita_income_monthly": 0.0,
    "persons": [{"id": "p1", "tier": "extremely_poor", "care_level": "self_care",
                 "single_person_dibao": False}],
    "benefits_monthly": {"dibao": 0.0, "extremely_poor": 1355.0, "total": 1355.0},
}

SPEC_EXPLANATION_ENTRY = {
    "rule": "extremely_poor.no_work_capacity", "passed": True,
    "values": {"age": 75, "age_limit": 60},
    "reference": "特困人员认定办法 (民发〔2021〕43号) 第五条",
    "text_zh": "年满60周岁，视为无劳动能力", "text_en": "Aged 60 or over: no work capacity",
}


def spec_example() -> dict:
    return copy.deepcopy(SPEC_EXAMPLE)


def family(**changes) -> dict:
    """A two-adult, one-child urban family in Zaozhuang with the given top-level changes."""
    payload = {
        "as_of": "2025-07-01", "registration": "urban",
        "local_policy": {"dibao_standard": 941, "extremely_poor_basic_standard": 1255,
                         "care_standard": {"self_care": 100, "partial": 300, "full": 600}},
        "members": [
            {"id": "a", "birth_date": "1980-05-01", "relation": "head", "income_monthly": {"wage": 900}},
            {"id": "b", "birth_date": "1982-01-20", "relation": "spouse"},
            {"id": "c", "birth_date": "2015-09-09", "relation": "child", "student": True},
        ],
    }
    payload.update(changes)
    return payload
