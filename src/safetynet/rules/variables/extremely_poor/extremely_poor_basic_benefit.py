from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Person


class extremely_poor_basic_benefit(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly basic living support of an extremely poor person 基本生活费"
    reference = "国务院关于进一步健全特困人员救助供养制度的意见 (国发〔2016〕14号)"

    def formula_2021_07_01(person, period, parameters):
        standard = person.household("extremely_poor_basic_standard", period)
        return where(person("extremely_poor", period), standard, 0)
