from openfisca_core.model_api import MONTH, select

from safetynet.rules.common import DisabilityCategory, Float64Variable
from safetynet.rules.entities import Person


class disability_care_subsidy(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly care subsidy of a severely disabled person (grade 1–2) 重度残疾人护理补贴"
    reference = "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见 (国发〔2015〕52号)"

    def formula_2016_01_01(person, period, parameters):
        grade = person("disability_grade", period)
        certified = person("disability_category", period) != DisabilityCategory.none
        household = person.household
        return select([certified & (grade == 1), certified & (grade == 2)],
                      [household("disability_care_subsidy_grade_1_standard", period),
                       household("disability_care_subsidy_grade_2_standard", period)], default=0)
