from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import DisabilityCategory, Float64Variable, OrphanStatus, Tier
from safetynet.rules.entities import Person


class disability_living_subsidy(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly living subsidy of a poor disabled person (dibao recipients) 困难残疾人生活补贴"
    reference = "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见 (国发〔2015〕52号)"
    documentation = """Paid to certified disabled members of dibao families (including single-person dibao);
    a disabled child on the orphan allowance takes that allowance instead."""

    def formula_2016_01_01(person, period, parameters):
        p = parameters(period).special.disability.living_subsidy
        grade = person("disability_grade", period)
        certified = (grade >= 1) & (person("disability_category", period) != DisabilityCategory.none)
        eligible = (certified & (person("person_tier", period) == Tier.dibao)
                    & (person("orphan_status", period) == OrphanStatus.none))
        household = person.household
        amount = where(grade <= p.severe_max_grade,
                       household("disability_living_subsidy_severe_standard", period),
                       household("disability_living_subsidy_moderate_standard", period))
        return where(eligible, amount, 0)
