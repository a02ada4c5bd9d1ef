from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class other_vehicle_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Other vehicles, ships and large machinery owned 其他车辆、船舶、大型机械"
