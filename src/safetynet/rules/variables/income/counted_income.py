from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Person

ITEMS = ("wage", "business", "property", "transfer", "basic_pension", "assistance", "preferential_pension")


class counted_income(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly income that counts as family income (the items parameters mark as counted)"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 家庭收入; 不计入家庭收入的项目"

    def formula_2021_07_01(person, period, parameters):
        counted = parameters(period).income.counted
        return sum(person(f"income_{item}", period) * counted[item] for item in ITEMS)
