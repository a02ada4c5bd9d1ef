import numpy as np
from openfisca_core.model_api import MONTH, Variable, date

from safetynet.rules.entities import Household


class assessment_date(Variable):
    value_type = date
    entity = Household
    definition_period = MONTH
    label = "Date of the assessment (ages are counted on this day); the first day of the month by default"

    def formula(household, period, parameters):
        return np.full(household.count, np.datetime64(period.start.date, "D"))
