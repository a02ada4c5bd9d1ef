from openfisca_core.model_api import MONTH, Enum, Variable

from safetynet.rules.common import Supporter
from safetynet.rules.entities import Person


class supporter(Variable):
    value_type = Enum
    possible_values = Supporter
    default_value = Supporter.able
    entity = Person
    definition_period = MONTH
    label = "Legal supporter (赡养、抚养、扶养义务人): none, unable to support, or able"
