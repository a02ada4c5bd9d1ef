from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import below
from safetynet.rules.entities import Person


class single_person_dibao(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Covered alone by dibao inside a dibao-edge family, assessed as a one-person household"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 单独提出申请; 参照单人户 (黑民规〔2023〕1号)"
    documentation = """A member of a dibao-edge family in a single-person category is assessed as a one-person
    household (参照“单人户”): only their own counted income is compared with the standard; the family's
    assets have already passed (the family is dibao-edge)."""

    def formula_2021_07_01(person, period, parameters):
        return (person("in_unit", period) & person.household("dibao_edge", period)
                & person("single_person_dibao_category", period) & ~person("extremely_poor", period)
                & below(person("counted_income", period), person.household("dibao_standard", period)))
