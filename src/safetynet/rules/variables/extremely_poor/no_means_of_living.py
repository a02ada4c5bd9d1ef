from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class no_means_of_living(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "No means of living 无生活来源: per-capita income below the dibao standard, assets pass"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第六条"

    def formula_2021_07_01(person, period, parameters):
        return (person.household("dibao_income_below_standard", period)
                & person.household("assets_pass", period))
