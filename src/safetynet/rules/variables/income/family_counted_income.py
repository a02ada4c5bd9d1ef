from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class family_counted_income(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly counted income of the members in the unit 家庭月收入"

    def formula(household, period, parameters):
        members = household.members
        return household.sum(members("counted_income", period) * members("in_unit", period))
