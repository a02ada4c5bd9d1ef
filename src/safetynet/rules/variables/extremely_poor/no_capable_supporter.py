from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import Supporter
from safetynet.rules.entities import Person


class no_capable_supporter(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "No legal supporter, or the supporter cannot support 无法定义务人或其无履行义务能力"
    reference = "特困人员认定办法 (民发〔2021〕43号) 第八条"

    def formula_2021_07_01(person, period, parameters):
        supporter = person("supporter", period)
        return (supporter == Supporter.none) | (supporter == Supporter.unable)
