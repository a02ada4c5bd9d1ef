from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import Float64Variable, Registration
from safetynet.rules.entities import Household


class dibao_standard(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Local monthly dibao standard per person 低保标准"
    documentation = "Local value (local_policy or the standards store); the formula gives the dated default."

    def formula(household, period, parameters):
        default = parameters(period).standards.dibao_standard
        urban = household("registration", period) == Registration.urban
        return where(urban, default.urban, default.rural)
