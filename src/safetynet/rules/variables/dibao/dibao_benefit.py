from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class dibao_benefit(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly dibao paid to the household: household dibao plus single-person dibao"

    def formula_2021_07_01(household, period, parameters):
        return (household("dibao_household_benefit", period)
                + household.sum(household.members("single_person_dibao_benefit", period)))
