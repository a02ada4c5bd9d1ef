from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class family_income_12m(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Counted family income over the 12 months (12 × the monthly figure unless given)"

    def formula(household, period, parameters):
        return household("family_counted_income", period) * 12
