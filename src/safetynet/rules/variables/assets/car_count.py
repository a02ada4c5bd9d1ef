from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class car_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Cars owned 汽车"
