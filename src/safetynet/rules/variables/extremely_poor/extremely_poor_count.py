from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class extremely_poor_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Extremely poor members of the household"

    def formula(household, period, parameters):
        return household.sum(household.members("extremely_poor", period))
