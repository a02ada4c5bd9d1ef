from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class edge_expenditure_type(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Apply the expenditure-type dibao-edge variant 支出型低保边缘"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).edge.expenditure_type)
