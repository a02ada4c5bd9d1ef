from openfisca_core.model_api import MONTH

from safetynet.rules.common import Float64Variable
from safetynet.rules.entities import Household


class temporary_assistance_cap(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Most temporary assistance per case: cap_months_of_standard × monthly dibao standard"
    reference = "国务院关于全面建立临时救助制度的通知 (国发〔2014〕47号)"

    def formula_2021_07_01(household, period, parameters):
        months = parameters(period).temporary.cap_months_of_standard
        return months * household("dibao_standard", period)
