from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Household


class edge_expenditure_test(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Expenditure-type edge: income below last year's disposable income and, after deducting "\
        "costs, below edge_multiplier × standard"
    reference = "最低生活保障边缘家庭认定 (民办函〔2024〕31号); 青岛市 支出型低保边缘家庭"

    def formula_2021_07_01(household, period, parameters):
        limit = household("edge_multiplier", period) * household("dibao_standard", period)
        pci = household("per_capita_income", period)
        return (household("edge_expenditure_type", period) & (household("unit_size", period) > 0)
                & below(pci, household("disposable_income_prev_year_monthly", period))
                & below(household("edge_adjusted_per_capita_income", period), limit))
