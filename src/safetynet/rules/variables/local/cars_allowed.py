from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class cars_allowed(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Whether a car is compatible with the asset test"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).assets.cars_allowed)
