from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class orphan_allowance_scattered_standard(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Local monthly allowance of a scattered (family-raised) orphan"
    documentation = "Local value: set from the standards store; the formula is the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).special.orphan.scattered)
