from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Person


class income_business(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly net business income 经营净收入"
