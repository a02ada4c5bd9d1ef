from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import Float64Variable, Registration
from safetynet.rules.entities import Household


class disposable_income_prev_year_monthly(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Last year's local per-capita disposable income, per month 上年度人均可支配收入 (月)"
    documentation = "Local value (local_policy or the standards store); by default the national figure ÷ 12."

    def formula(household, period, parameters):
        annual = parameters(period).standards.disposable_income_prev_year_annual
        urban = household("registration", period) == Registration.urban
        return where(urban, annual.urban, annual.rural) / 12
