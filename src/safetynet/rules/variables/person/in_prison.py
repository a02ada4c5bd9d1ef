from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class in_prison(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Serving a prison sentence or in compulsory rehabilitation 服刑或强制隔离戒毒"
