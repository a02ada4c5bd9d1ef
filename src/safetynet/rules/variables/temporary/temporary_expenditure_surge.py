from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class temporary_expenditure_surge(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Expenditure type (支出型): a surge of necessary medical or education spending"
