from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class expenditure_medical_12m(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Medical expenditure of the family over the last 12 months, yuan in total 医疗支出"
