from openfisca_core.model_api import MONTH, Variable

from safetynet.rules.entities import Person


class self_care_items_failed(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Self-care items not met of six: eating, dressing, bed, toilet, indoor walking, bathing"
