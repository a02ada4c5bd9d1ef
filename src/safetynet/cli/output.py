"""Output conventions shared by every command: JSON for machines, rich text for people."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from safetynet.errors import InputFileError

err = Console(stderr=True)


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
