from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class deposits_limit(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Most monetary assets compatible with the asset test: months × dibao standard × members"

    def formula(household, period, parameters):
        return (household("deposits_months_of_standard", period) * household("dibao_standard", period)
                * household("unit_size", period))
