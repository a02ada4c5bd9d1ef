from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class countable_vehicle_count(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Vehicles that count against the no-car rule (exempt types left out)"
    reference = "docs/policy.md §3: no car (motorbikes and disability vehicles excepted)"

    def formula_2021_07_01(household, period, parameters):
        exempt = parameters(period).assets.vehicle_exempt
        return (household("car_count", period) + household("other_vehicle_count", period)
                + household("motorcycle_count", period) * (1 - exempt.motorcycle)
                + household("disability_vehicle_count", period) * (1 - exempt.disability_vehicle))
