from openfisca_core.model_api import MONTH, max_, min_, where

from safetynet.rules.common import Float64Variable, round_money
from safetynet.rules.entities import Household


class temporary_assistance_amount(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Temporary assistance payable: the proposed amount, capped, when eligible"

    def formula_2021_07_01(household, period, parameters):
        amount = min_(max_(household("temporary_assistance_requested", period), 0),
                      household("temporary_assistance_cap", period))
        return round_money(where(household("temporary_assistance_eligible", period), amount, 0))
