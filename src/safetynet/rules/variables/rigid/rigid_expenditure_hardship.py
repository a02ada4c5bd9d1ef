from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class rigid_expenditure_hardship(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Rigid-expenditure hardship family 刚性支出困难家庭 (valid 12 months, then re-apply)"
    reference = "刚性支出困难家庭认定办法 (民政部 2024)"

    def formula_2021_07_01(household, period, parameters):
        return (~household("dibao_eligible", period) & ~household("dibao_edge", period)
                & household("assets_pass", period) & household("rigid_income_below_disposable", period)
                & household("rigid_expenditure_above_ratio", period))
