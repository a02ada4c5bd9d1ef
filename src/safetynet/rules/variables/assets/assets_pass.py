from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class assets_pass(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Family assets pass the local asset test 财产状况符合规定"
    reference = "最低生活保障审核确认办法 (民发〔2021〕57号) 家庭财产"

    def formula_2021_07_01(household, period, parameters):
        return (household("assets_deposits_pass", period) & household("assets_homes_pass", period)
                & household("assets_vehicles_pass", period) & household("assets_business_pass", period))
