from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class dibao_edge(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Dibao-edge family 低保边缘家庭: not dibao, income below the edge limit, assets pass"
    reference = "最低生活保障边缘家庭认定 (民办函〔2024〕31号)"

    def formula_2021_07_01(household, period, parameters):
        income = household("edge_income_below_multiple", period) | household("edge_expenditure_test", period)
        return ~household("dibao_eligible", period) & household("assets_pass", period) & income
