from openfisca_core.model_api import MONTH, Enum, Variable, select

from safetynet.rules.common import Tier
from safetynet.rules.entities import Household


class household_tier(Variable):
    value_type = Enum
    possible_values = Tier
    default_value = Tier.none
    entity = Household
    definition_period = MONTH
    label = "Deepest tier of the household as a unit (extremely poor when every member in the unit is)"
    reference = "关于加强低收入人口动态监测做好分层分类社会救助工作的意见 (国办发〔2023〕39号)"

    def formula(household, period, parameters):
        size = household("unit_size", period)
        all_extremely_poor = (size > 0) & (household("extremely_poor_count", period) == size)
        return select(
            [all_extremely_poor, household("dibao_eligible", period), household("dibao_edge", period),
             household("rigid_expenditure_hardship", period)],
            [Tier.extremely_poor.index, Tier.dibao.index, Tier.dibao_edge.index,
             Tier.rigid_expenditure.index],
            default=Tier.none.index)
