from openfisca_core.model_api import MONTH, where

from safetynet.rules.common import Float64Variable, Registration
from safetynet.rules.entities import Household


class extremely_poor_basic_standard(Float64Variable):
    value_type = float
    entity = Household
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Local monthly basic living standard of extremely poor persons 特困人员基本生活标准"
    documentation = """Local value: set from local_policy or the standards store. The default goes with the
    dibao standard in use: the provincial average basic standard while the dibao standard is the
    provincial average default, otherwise the legal floor, basic_standard_min_ratio × dibao standard
    (a county that publishes a dibao standard but no basic standard gets at least the floor)."""

    def formula(household, period, parameters):
        p = parameters(period)
        urban = household("registration", period) == Registration.urban
        default_dibao = where(urban, p.standards.dibao_standard.urban, p.standards.dibao_standard.rural)
        default_basic = where(urban, p.standards.extremely_poor_basic_standard.urban,
                              p.standards.extremely_poor_basic_standard.rural)
        dibao = household("dibao_standard", period)
        return where(dibao == default_dibao, default_basic,
                     p.extremely_poor.basic_standard_min_ratio * dibao)
