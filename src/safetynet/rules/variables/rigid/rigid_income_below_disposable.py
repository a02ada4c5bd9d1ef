from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Household


class rigid_income_below_disposable(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Per-capita counted income strictly below last year's local per-capita disposable income"
    reference = "刚性支出困难家庭认定办法 (民政部 2024)"

    def formula_2021_07_01(household, period, parameters):
        return (household("unit_size", period) > 0) & below(
            household("per_capita_income", period), household("disposable_income_prev_year_monthly", period))
