from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable, round_money
from safetynet.rules.entities import Person


class extremely_poor_benefit(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly extremely-poor support: basic living standard + care standard of the care level"
    reference = "国务院关于进一步健全特困人员救助供养制度的意见 (国发〔2016〕14号)"

    def formula_2021_07_01(person, period, parameters):
        return round_money(person("extremely_poor_basic_benefit", period)
                           + person("extremely_poor_care_benefit", period))
