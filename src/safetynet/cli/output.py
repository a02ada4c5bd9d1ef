"""Output conventions shared by every command: JSON for machines, rich text for people."""

from __future__ import annotations

import getpass
import json

import typer
from rich.console import Console

from safetynet.errors import InputFileError

err = Console(stderr=True)


def cli_actor() -> str:
    """Who runs a command, for ledgers and audit rows: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def cli_engine():  # noqa: ANN201
    """The configured database, brought to the current schema first."""
    from safetynet.bootstrap import init_database
    from safetynet.db import get_engine

    engine = get_engine()
    init_database(engine)
    return engine


def rejected(e: InputFileError, *, as_json: bool, hint: str | None = None) -> typer.Exit:
    """Report a rejected input (nothing was written) and give the exit to raise (code 1)."""
    if as_json:
        typer.echo(json.dumps({"status": "rejected", "errors": [x.as_dict() for x in e.errors]},
                              ensure_ascii=False))
    else:
        err.print(f"[red]Rejected, nothing written.[/red] {e}")
        if hint:
            err.print(hint)
    return typer.Exit(1)
