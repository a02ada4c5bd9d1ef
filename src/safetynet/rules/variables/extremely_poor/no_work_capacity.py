from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class no_work_capacity(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "No work capacity: aged 60 or over, under 16, or disabled at a qualifying grade 无劳动能力"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第五条"

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).extremely_poor.no_work_capacity
        age = person("age", period)
        grade = person("disability_grade", period)
        disabled = (grade >= 1) & (grade <= person("disability_work_grade_limit", period))
        return (age >= p.elderly_min_age) | (age < p.minor_age_below) | disabled
