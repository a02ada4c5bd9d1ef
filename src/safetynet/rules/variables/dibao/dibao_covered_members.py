from openfisca_core.model_api import MONTH, Variable, where

from safetynet.rules.entities import Household


class dibao_covered_members(Variable):
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Members paid household dibao: the unit minus its extremely poor members (supported instead)"

    def formula_2021_07_01(household, period, parameters):
        members = household.members
        covered = household.sum(members("in_unit", period) & ~members("extremely_poor", period))
        return where(household("dibao_eligible", period), covered, 0)
