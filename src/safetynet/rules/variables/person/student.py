from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class student(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "In school (compulsory education, high school or secondary vocational school) 在校学生"
