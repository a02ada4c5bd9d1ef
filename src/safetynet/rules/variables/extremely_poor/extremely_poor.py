from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class extremely_poor(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Extremely poor person 特困人员: no work capacity, no means of living, no capable supporter"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第四条"

    def formula_2021_07_01(person, period, parameters):
        capacity = person("no_work_capacity", period) | person("continued_minor_support", period)
        return (person("in_unit", period) & capacity & person("no_means_of_living", period)
                & person("no_capable_supporter", period))
