from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable, safe_divide
from safetynet.rules.entities import Household


class per_capita_income(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly per-capita counted family income 家庭月人均收入 (0 when nobody is in the unit)"
    reference = "社会救助暂行办法 (国务院令第649号) 最低生活保障"

    def formula(household, period, parameters):
        return safe_divide(household("family_counted_income", period), household("unit_size", period))
