from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable, safe_divide
from safetynet.rules.entities import Household


class edge_adjusted_per_capita_income(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Per-capita income after deducting the 12 months' deductible costs ÷ 12 ÷ members (may be < 0)"

    def formula(household, period, parameters):
        monthly = safe_divide(household("edge_deductible_expenditure_12m", period) / 12,
                              household("unit_size", period))
        return household("per_capita_income", period) - monthly
