from openfisca_core.model_api import MONTH, select, where

from safetynet.rules.common import CareLevel, Float64Variable
from safetynet.rules.entities import Person


class extremely_poor_care_benefit(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly care support of an extremely poor person, by care level 照料护理费"
    reference = "国务院关于进一步健全特困人员救助供养制度的意见 (国发〔2016〕14号)"

    def formula_2021_07_01(person, period, parameters):
        level = person("care_level", period)
        household = person.household
        amount = select([level == CareLevel.full, level == CareLevel.partial],
                        [household("care_standard_full", period), household("care_standard_partial", period)],
                        default=household("care_standard_self_care", period))
        return where(person("extremely_poor", period), amount, 0)
