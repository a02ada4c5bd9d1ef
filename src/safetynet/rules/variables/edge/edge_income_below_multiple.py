from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Household


class edge_income_below_multiple(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Per-capita counted income strictly below edge_multiplier × dibao standard"
    reference = "最低生活保障边缘家庭认定 (民办函〔2024〕31号)"

    def formula_2021_07_01(household, period, parameters):
        limit = household("edge_multiplier", period) * household("dibao_standard", period)
        return (household("unit_size", period) > 0) & below(household("per_capita_income", period), limit)
