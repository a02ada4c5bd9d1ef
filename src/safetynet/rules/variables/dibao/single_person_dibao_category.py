from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import DisabilityCategory
from safetynet.rules.entities import Person


class single_person_dibao_category(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "May be covered alone 单人保: disability grade 1–2, grade 3 intellectual/mental, critical illness"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 单独提出申请"

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).dibao.single_person
        grade = person("disability_grade", period)
        category = person("disability_category", period)
        certified = (grade >= 1) & (category != DisabilityCategory.none)
        intellectual_mental = ((category == DisabilityCategory.intellectual)
                               | (category == DisabilityCategory.mental))
        severe = certified & (grade <= p.max_grade_any_category)
        severe_im = certified & intellectual_mental & (grade <= p.max_grade_intellectual_mental)
        return severe | severe_im | (person("critical_illness", period) & p.critical_illness)
