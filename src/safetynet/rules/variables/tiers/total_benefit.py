from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class total_benefit(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly cash to the household: dibao (household and single-person) plus extremely-poor support"

    def formula(household, period, parameters):
        return household("dibao_benefit", period) + household("household_extremely_poor_benefit", period)
