from openfisca_core.model_api import MONTH, Enum, Variable, select

from safetynet.rules.common import CareLevel
from safetynet.rules.entities import Person


class care_level(Variable):
    value_type = Enum
    possible_values = CareLevel
    default_value = CareLevel.self_care
    entity = Person
    definition_period = MONTH
    label = "Care level from the six self-care items: all met, 1–3 not met (partial), 4 or more (full)"
    reference = "特困人员认定办法 (民发〔2021〕43号) 生活自理能力评估"

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).extremely_poor.care_level
        failed = person("self_care_items_failed", period)
        return select([failed >= p.full_min_items, failed >= p.partial_min_items],
                      [CareLevel.full.index, CareLevel.partial.index], default=CareLevel.self_care.index)
