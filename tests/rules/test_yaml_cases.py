"""Every YAML rule case under tests/rules, run through OpenFisca's own test runner.

The cases are OpenFisca test files (name, period, input, output, absolute_error_margin),
in a tree mirroring src/safetynet/rules/variables. Each file is one pytest test here; a
failing case shows the runner's report (file, case name, expected and actual values)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openfisca_core.tools.test_runner import run_tests

from safetynet.rules.system import get_system

HERE = Path(__file__).parent
FILES = sorted(HERE.rglob("*.yaml"))


def _cases(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def test_there_are_enough_rule_cases() -> None:
    cases = [case for path in FILES for case in _cases(path)]
    assert len(cases) >= 80, f"only {len(cases)} YAML rule cases"
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), "YAML case names must be unique"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(HERE)))
def test_yaml_rule_cases(path: Path) -> None:
    assert run_tests(get_system(), str(path), {}) == pytest.ExitCode.OK, f"a case in {path.name} failed"
