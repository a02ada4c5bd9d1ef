from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class deposits_months_of_standard(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "Deposits pass while at most this many months of the dibao standard per member"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).assets.deposits_months_of_standard)
