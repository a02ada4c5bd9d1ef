from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Household


class dibao_banded_payment(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Pay dibao in bands (分档, e.g. Zibo) instead of the exact gap (差额)"
    documentation = "Local value (standards store or batch column); the formula gives the dated default."

    def formula(household, period, parameters):
        return household.filled_array(parameters(period).dibao.banded_payment.enabled)
