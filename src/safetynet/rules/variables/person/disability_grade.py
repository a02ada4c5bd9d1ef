from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class disability_grade(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Disability grade 1 (most severe) to 4; 0 without a certificate 残疾等级"
