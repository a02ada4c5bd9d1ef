from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class unit_size(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Members counted in the co-resident family 共同生活家庭成员人数"

    def formula(household, period, parameters):
        return household.sum(household.members("in_unit", period))
