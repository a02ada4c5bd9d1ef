from openfisca_core.model_api import MONTH, Enum, Variable

from safetynet.rules.common import OrphanStatus
from safetynet.rules.entities import Person


class orphan_status(Variable):
    value_type = Enum
    possible_values = OrphanStatus
    default_value = OrphanStatus.none
    entity = Person
    definition_period = MONTH
    label = "Recognised orphan or de-facto unattended child, and how raised 孤儿/事实无人抚养儿童"
