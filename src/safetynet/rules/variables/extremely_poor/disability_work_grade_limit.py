from openfisca_core.model_api import MONTH, Variable, select

from safetynet.rules.common import DISABILITY_CATEGORIES, DisabilityCategory
from safetynet.rules.entities import Person


class disability_work_grade_limit(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Worst grade of the person's disability category that means no work capacity (0: none does)"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第五条"

    def formula_2021_07_01(person, period, parameters):
        limits = parameters(period).extremely_poor.no_work_capacity.max_disability_grade
        category = person("disability_category", period)
        return select([category == DisabilityCategory[c] for c in DISABILITY_CATEGORIES],
                      [limits[c] for c in DISABILITY_CATEGORIES], default=0)
