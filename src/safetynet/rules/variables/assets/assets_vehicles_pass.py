from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class assets_vehicles_pass(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "No countable vehicle, or cars allowed locally"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 家庭财产"

    def formula_2021_07_01(household, period, parameters):
        return household("cars_allowed", period) | (household("countable_vehicle_count", period) == 0)
