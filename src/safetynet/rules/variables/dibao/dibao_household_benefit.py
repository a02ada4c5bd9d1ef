from openfisca_core.model_api import MONTH, max_, where

from safetynet.rules.common import Float64Variable, round_money, safe_divide
from safetynet.rules.entities import Household


class dibao_household_benefit(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly household dibao: (standard − per-capita income) × covered members, or banded"
    reference = "社会救助暂行办法 (国务院令第649号) 最低生活保障 (差额按月发给)"

    def formula_2021_07_01(household, period, parameters):
        banded = parameters(period).dibao.banded_payment
        standard = household("dibao_standard", period)
        gap = max_(standard - household("per_capita_income", period), 0)
        banded_amount = standard * banded.rate.calc(safe_divide(gap, standard))
        per_member = where(household("dibao_banded_payment", period), banded_amount, gap)
        covered = household("dibao_covered_members", period)
        return round_money(where(household("dibao_eligible", period), per_member * covered, 0))
