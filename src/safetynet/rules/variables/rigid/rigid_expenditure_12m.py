from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class rigid_expenditure_12m(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Rigid expenditure of the last 12 months: living, medical, education, rehabilitation, other"
    reference = "刚性支出困难家庭认定办法 (民政部 2024)"

    def formula(household, period, parameters):
        return sum(household(f"expenditure_{item}_12m", period)
                   for item in ("living", "medical", "education", "rehabilitation", "other"))
