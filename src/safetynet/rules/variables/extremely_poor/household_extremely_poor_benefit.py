from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class household_extremely_poor_benefit(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly extremely-poor support of all the household's extremely poor members"

    def formula(household, period, parameters):
        return household.sum(household.members("extremely_poor_benefit", period))
