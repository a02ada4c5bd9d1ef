from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Household


class dibao_income_below_standard(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Per-capita counted income strictly below the dibao standard (and someone in the unit)"
    reference = "社会救助暂行办法 (国务院令第649号) 第九条"

    def formula_2021_07_01(household, period, parameters):
        return (household("unit_size", period) > 0) & below(
            household("per_capita_income", period), household("dibao_standard", period))
