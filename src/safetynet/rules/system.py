"""The rules' TaxBenefitSystem, built once per process."""

from __future__ import annotations

import functools
from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from safetynet.rules.entities import entities

RULES_DIR = Path(__file__).parent
VARIABLES_DIR = RULES_DIR / "variables"
PARAMETERS_DIR = RULES_DIR / "parameters"


class SafetynetRules(TaxBenefitSystem):
    """Social-assistance rules (docs/policy.md §2–3): variables in `variables/`, dated
    parameters with references in `parameters/`."""

    def __init__(self) -> None:
        super().__init__(entities)
        self.add_variables_from_directory(str(VARIABLES_DIR))
        self.load_parameters(str(PARAMETERS_DIR))


@functools.cache
def get_system() -> SafetynetRules:
    """The shared, read-only system. Build simulations from it; never mutate it."""
    return SafetynetRules()
