from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class temporary_emergency(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Emergency (急难型): accident, fire, sudden critical illness… (no hukou restriction)"
