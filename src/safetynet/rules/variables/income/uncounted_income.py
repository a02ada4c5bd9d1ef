from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Person

ITEMS = ("wage", "business", "property", "transfer", "basic_pension", "assistance", "preferential_pension")


class uncounted_income(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly income received that does not count (basic pension, assistance, preferential pensions)"

    def formula_2021_07_01(person, period, parameters):
        counted = parameters(period).income.counted
        return sum(person(f"income_{item}", period) * (1 - counted[item]) for item in ITEMS)
