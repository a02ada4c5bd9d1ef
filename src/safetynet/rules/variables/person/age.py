import numpy as np
from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = dates.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(int) + 1970
    month = months.astype(int) % 12 + 1
    day = (dates - months).astype(int) + 1
    return year, month, day


class age(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Age in completed years on the assessment date 周岁"
    reference = "周岁: age in completed years, a birthday counting from its own day"

    def formula(person, period, parameters):
        by, bm, bd = _ymd(person("birth_date", period))
        ry, rm, rd = _ymd(person.household("assessment_date", period))
        before_birthday = (rm < bm) | ((rm == bm) & (rd < bd))
        return ry - by - before_birthday
