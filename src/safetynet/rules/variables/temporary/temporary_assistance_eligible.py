from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class temporary_assistance_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = ("Eligible for temporary assistance: an emergency, or an expenditure surge with per-capita "
             "income below last year's disposable income")
    reference = ("国务院关于全面建立临时救助制度的通知 (国发〔2014〕47号); "
                 "社会救助暂行办法 (国务院令第649号) 临时救助")

    def formula_2021_07_01(household, period, parameters):
        surge = (household("temporary_expenditure_surge", period)
                 & household("rigid_income_below_disposable", period))
        return household("temporary_emergency", period) | surge
