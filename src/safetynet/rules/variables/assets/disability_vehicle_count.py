from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class disability_vehicle_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Disability vehicles owned 残疾人机动轮椅车"
