from openfisca_core.model_api import MONTH, max_, where

from safetynet.rules.common import Float64Variable, round_money
from safetynet.rules.entities import Person


class single_person_dibao_benefit(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly single-person dibao: the standard minus the person's own counted income"
    reference = "参照单人户: 只核算其个人收入 (黑民规〔2023〕1号); 按本人收入与低保标准的差额计算"

    def formula_2021_07_01(person, period, parameters):
        gap = max_(person.household("dibao_standard", period) - person("counted_income", period), 0)
        return round_money(where(person("single_person_dibao", period), gap, 0))
