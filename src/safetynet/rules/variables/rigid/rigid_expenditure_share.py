import numpy as np
from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import Float64Variable, safe_divide
from safetynet.rules.entities import Household


class rigid_expenditure_share(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    label = "Rigid expenditure ÷ family income over 12 months (infinite when there is spending and no income)"

    def formula(household, period, parameters):
        spending = household("rigid_expenditure_12m", period)
        income = household("family_income_12m", period)
        return where((income <= 0) & (spending > 0), np.inf, safe_divide(spending, income))
