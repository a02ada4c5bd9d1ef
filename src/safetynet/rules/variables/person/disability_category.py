from openfisca_core.model_api import MONTH, Enum, Variable

from safetynet.rules.common import DisabilityCategory
from safetynet.rules.entities import Person


class disability_category(Variable):
    value_type = Enum
    possible_values = DisabilityCategory
    default_value = DisabilityCategory.none
    entity = Person
    definition_period = MONTH
    label = "Disability category on the disability certificate 残疾类别"
