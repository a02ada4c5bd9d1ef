from openfisca_core.model_api import ETERNITY, Variable, date

from safetynet.rules.entities import Person


class birth_date(Variable):
    value_type = date
    default_value = date(1970, 1, 1)
    entity = Person
    definition_period = ETERNITY
    label = "Date of birth 出生日期"
