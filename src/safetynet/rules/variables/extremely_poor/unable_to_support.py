from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import DisabilityCategory, Tier, below
from safetynet.rules.entities import Person


class unable_to_support(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "As someone's legal supporter, this person cannot support (无履行义务能力)"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第八条"
    documentation = """Not used by the assessment itself, which takes each member's `supporter` as given;
    it decides that input when the supporter is known (e.g. from the register): extremely poor; a dibao
    recipient aged 60+; aged 70+, or severely disabled, with own income below last year's disposable
    income and family assets passing; or in prison. (Lacking legal capacity and declared missing have
    no input field.)"""

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).extremely_poor.supporter_unable
        age = person("age", period)
        grade = person("disability_grade", period)
        category = person("disability_category", period)
        certified = (grade >= 1) & (category != DisabilityCategory.none)
        intellectual_mental = ((category == DisabilityCategory.intellectual)
                               | (category == DisabilityCategory.mental))
        severe = certified & ((grade <= p.severe_disability_max_grade)
                              | (intellectual_mental & (grade <= p.intellectual_mental_max_grade)))
        low_income = (below(person("counted_income", period),
                            person.household("disposable_income_prev_year_monthly", period))
                      & person.household("assets_pass", period))
        dibao_recipient = person("person_tier", period) == Tier.dibao
        return (person("extremely_poor", period) | (dibao_recipient & (age >= p.dibao_recipient_min_age))
                | (((age >= p.elderly_min_age) | severe) & low_income) | person("in_prison", period))
