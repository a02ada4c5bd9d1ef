from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class edge_deductible_expenditure_12m(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Medical, education, rehabilitation and disaster costs of the last 12 months"

    def formula(household, period, parameters):
        return sum(household(f"expenditure_{item}_12m", period)
                   for item in ("medical", "education", "rehabilitation", "disaster"))
