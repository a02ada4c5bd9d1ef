from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class homes(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Homes owned 房屋套数"
