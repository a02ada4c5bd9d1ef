"""`safetynet assess FILE.json`: assess one household (docs/contracts/assess.md);
`safetynet counterfactual FILE.json`: its nearest tier boundaries (rules/counterfactual.py).

JSON on stdout; exit 0 when the input was valid whatever the outcome, exit 2 with a message
naming the field on stderr when it was not. `-` reads the input from stdin."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import typer

from safetynet.rules import counterfactual, service
from safetynet.rules.model import AssessInputError


def _standards_lookup():  # noqa: ANN202
    """Local standards from the store when the platform's database is set up; otherwise
    assess works standalone on the dated defaults."""
    from safetynet.config import get_settings
    from safetynet.db import get_engine
    from safetynet.standards.service import store_lookup

    if not get_settings().database_exists():
        return None
    return store_lookup(get_engine())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"invalid input: {message}", err=True)
    return typer.Exit(2)


def _read(file: Path) -> tuple[str, object]:
    """The input's name and its JSON; exit 2 when it cannot be read or parsed."""
    name = str(file)
    try:
        text = sys.stdin.read() if name == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(f"cannot read {name}: {e}") from None
    try:
        return name, json.loads(text)
    except json.JSONDecodeError as e:
        raise _fail(f"{name} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None


def _run(file: Path, use_case: Callable[..., dict]) -> None:
    name, payload = _read(file)
    try:
        result = use_case(payload, standards_lookup=_standards_lookup())
    except AssessInputError as e:
        lines = "\n".join(f"  {path or '(input)'}: {reason}" for path, reason in e.problems)
        raise _fail(f"{len(e.problems)} problem(s) in {name}:\n{lines}") from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


def assess(
    file: Path = typer.Argument(..., help="The household as JSON (docs/contracts/assess.md); - for stdin",
                                allow_dash=True),
) -> None:
    """Assess one household: tier of each person and of the household, monthly amounts, explanation."""
    _run(file, service.assess)


def counterfactual_cli(
    file: Path = typer.Argument(..., help="The household as JSON (docs/contracts/assess.md); - for stdin",
                                allow_dash=True),
) -> None:
    """The smallest change of income, or of the dibao standard, that moves the household across its
    nearest tier boundary, with the rules that change (exit codes as for assess)."""
    _run(file, counterfactual.counterfactual)
