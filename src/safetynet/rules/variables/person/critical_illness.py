from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class critical_illness(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Has a critical illness recognised by the local authorities 重特大疾病"
