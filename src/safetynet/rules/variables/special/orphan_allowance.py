from openfisca_core.model_api import MONTH, select

from safetynet.rules.common import Float64Variable, OrphanStatus
from safetynet.rules.entities import Person


class orphan_allowance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    unit = "currency-CNY"
    label = "Monthly basic living allowance of an orphan, by how the child is raised 孤儿基本生活费"
    reference = "枣庄市市中区 孤儿基本生活费 (docs/policy.md §2.7)"

    def formula(person, period, parameters):
        status = person("orphan_status", period)
        household = person.household
        return select([status == OrphanStatus.institution, status == OrphanStatus.scattered],
                      [household("orphan_allowance_institution_standard", period),
                       household("orphan_allowance_scattered_standard", period)], default=0)
