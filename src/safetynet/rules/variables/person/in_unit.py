from openfisca_core.model_api import MONTH, Variable, not_

from safetynet.rules.entities import Person


class in_unit(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Counted in the co-resident family (共同生活家庭成员)"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 第七条"

    def formula_2021_07_01(person, period, parameters):
        p = parameters(period).unit
        return not_(person("in_prison", period) * p.exclude_in_prison)
