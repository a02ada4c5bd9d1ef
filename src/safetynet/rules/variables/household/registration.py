from openfisca_core.model_api import MONTH, Enum, Variable

from safetynet.rules.common import Registration
from safetynet.rules.entities import Household


class registration(Variable):
    value_type = Enum
    possible_values = Registration
    default_value = Registration.urban
    entity = Household
    definition_period = MONTH
    label = "Urban or rural registration: selects the urban or rural standards 城乡属性"
