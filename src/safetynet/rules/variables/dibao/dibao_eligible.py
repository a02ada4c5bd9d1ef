from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class dibao_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "The household as a unit qualifies for dibao: income below the standard and assets pass"
    reference = "社会救助暂行办法 (国务院令第649号) 第九条"

    def formula_2021_07_01(household, period, parameters):
        return household("dibao_income_below_standard", period) & household("assets_pass", period)
