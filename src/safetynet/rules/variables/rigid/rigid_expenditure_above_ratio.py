from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Household


class rigid_expenditure_above_ratio(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Rigid expenditure over 12 months is above rigid_expenditure_ratio × family income over 12 months"
    reference = "刚性支出困难家庭认定办法 (民政部 2024)"

    def formula(household, period, parameters):
        threshold = household("rigid_expenditure_ratio", period) * household("family_income_12m", period)
        return below(threshold, household("rigid_expenditure_12m", period))
