import numpy as np
from openfisca_core.model_api import MONTH, Enum, Variable, select

from safetynet.rules.common import Tier
from safetynet.rules.entities import Person


class person_tier(Variable):
    value_type = Enum
    possible_values = Tier
    default_value = Tier.none
    entity = Person
    definition_period = MONTH
    label = "The person's tier: extremely poor, single-person dibao, else the household's (none if outside)"

    def formula(person, period, parameters):
        household_tier = person.household("household_tier", period)
        return select(
            [~person("in_unit", period), person("extremely_poor", period),
             person("single_person_dibao", period)],
            [Tier.none.index, Tier.extremely_poor.index, Tier.dibao.index],
            default=np.asarray(household_tier))
