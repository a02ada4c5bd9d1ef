from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import at_most
from safetynet.rules.entities import Household


class assets_business_pass(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Business capital within the limit (≤)"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 家庭财产"

    def formula_2021_07_01(household, period, parameters):
        return at_most(household("business_capital", period), household("business_capital_limit", period))
