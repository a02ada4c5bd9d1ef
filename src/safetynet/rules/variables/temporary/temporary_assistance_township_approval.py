from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.common import at_most
from safetynet.rules.entities import Household


class temporary_assistance_township_approval(Variable):
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "The township may approve the amount itself (≤ the township limit); above it the county approves"
    reference = "山东省 临时救助: 乡镇(街道)审批额度 (docs/policy.md §2.5)"

    def formula_2021_07_01(household, period, parameters):
        limit = parameters(period).temporary.township_approval_limit
        amount = household("temporary_assistance_amount", period)
        return (amount > 0) & at_most(amount, limit)
