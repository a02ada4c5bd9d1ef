from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class motorcycle_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Motorcycles owned 摩托车"
