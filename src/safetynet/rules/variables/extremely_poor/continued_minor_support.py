from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class continued_minor_support(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Minor aged 16–17, or a student of 18 or more: keeps extremely-poor support"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第二十四条"
    documentation = """Support continues for minors to 18 and beyond while in school. A single assessment
    has no enrolment history, so a 16- or 17-year-old, and a student of 18 or more, who meets the other two
    conditions is treated as keeping (or being owed) that support."""

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).extremely_poor
        age = person("age", period)
        minor = (age >= p.no_work_capacity.minor_age_below) & (age < p.continued_support.minor_age_below)
        student = (person("student", period) & p.continued_support.students_beyond
                   & (age >= p.continued_support.minor_age_below))
        return minor | student
