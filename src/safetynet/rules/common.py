"""Shared building blocks of the rule variables: enumerations, a float64 variable base and
the money rounding rule. Imported by the variable files; holds no rules itself."""

from __future__ import annotations

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.variables import Variable


class Float64Variable(Variable):
    """A float variable stored as float64.

    OpenFisca stores `float` variables as float32, whose resolution at 100,000 yuan is
    about 0.008: enough to move an amount across a fen when rounding, and to make a value
    given as 838.3 compare unequal to the same value computed in float64. Every amount and
    ratio in these rules derives from this class so all of them share one precision.
    Subclasses declare `value_type = float` as usual."""

    def __init__(self, baseline_variable=None) -> None:  # noqa: ANN001
        super().__init__(baseline_variable)
        self.dtype = np.float64


def round_money(values: np.ndarray) -> np.ndarray:
    """Round yuan to fen, half away from zero (四舍五入), as payments are rounded.

    numpy's own round is half-to-even on binary fractions (2.675 → 2.67); the small
    epsilon absorbs the binary representation error of amounts given in fen."""
    values = np.asarray(values, dtype=np.float64)
    return np.sign(values) * np.floor(np.abs(values) * 100 + 0.5 + 1e-7) / 100


#: Amounts are given in fen, and a per-capita figure is a sum over at most a few hundred
#: members: two amounts that should be equal differ by float error (~1e-12 yuan), two that
#: differ truly differ by far more than this. Comparisons of amounts go through below() and
#: at_most(), so 2514.90 ÷ 3 is not "below" a standard of 838.30.
MONEY_EPSILON = 1e-6


def below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a < b for amounts (strictly below, float error ignored)."""
    return np.asarray(a) < np.asarray(b) - MONEY_EPSILON


def at_most(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ≤ b for amounts (float error ignored)."""
    return np.asarray(a) <= np.asarray(b) + MONEY_EPSILON


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0."""
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(denominator), where=denominator != 0)


class Registration(Enum):
    urban = "城镇 urban"
    rural = "农村 rural"


class DisabilityCategory(Enum):
    none = "无残疾 no disability"
    physical = "肢体 physical"
    visual = "视力 visual"
    hearing = "听力 hearing"
    speech = "言语 speech"
    intellectual = "智力 intellectual"
    mental = "精神 mental"
    multiple = "多重 multiple"


class Supporter(Enum):
    none = "无法定义务人 no legal supporter"
    unable = "法定义务人无履行义务能力 supporter unable to support"
    able = "有履行能力的法定义务人 supporter able to support"


class CareLevel(Enum):
    self_care = "全自理 fully self-caring"
    partial = "半护理 partial care"
    full = "全护理 full care"


class Tier(Enum):
    """Deepest first (docs/policy.md §2)."""

    extremely_poor = "特困 extremely poor"
    dibao = "低保 dibao"
    dibao_edge = "低保边缘 dibao edge"
    rigid_expenditure = "刚性支出困难 rigid expenditure"
    none = "无 none"


class OrphanStatus(Enum):
    none = "非孤儿 not an orphan"
    institution = "机构集中养育 raised in an institution"
    scattered = "社会散居 scattered (living with relatives)"


DISABILITY_CATEGORIES = [c.name for c in DisabilityCategory if c.name != "none"]
