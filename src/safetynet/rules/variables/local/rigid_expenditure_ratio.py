from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class rigid_expenditure_ratio(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "Rigid expenditure ÷ family income above which a family is in rigid-expenditure hardship"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).rigid.ratio)
