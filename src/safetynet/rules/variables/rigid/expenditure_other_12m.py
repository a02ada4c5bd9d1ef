from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class expenditure_other_12m(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Other expenditure of the family over the last 12 months, yuan in total 其他刚性支出"
