from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class edge_multiplier(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "Dibao-edge income limit as a multiple of the dibao standard 低保边缘倍数"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).edge.multiplier)
