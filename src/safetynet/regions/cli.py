"""`safetynet regions …`: look up administrative divisions."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from safetynet.db import get_engine
from safetynet.errors import NotFoundError
from safetynet.regions import service
from safetynet.regions.model import LEVEL_LABELS_ZH, Level

app = typer.Typer(help="Administrative divisions and grids (行政区划).", no_args_is_help=True)
console = Console()


@app.command("subtree")
def subtree(
    code: str = typer.Argument(..., help="2/4/6/9/12-digit code, e.g. 370402"),
    level: Level = typer.Option(None, help="Only this level"),
) -> None:
    """A region and everything below it."""
    try:
        items = service.subtree(get_engine(), code=code, level=level)
    except NotFoundError as e:
        Console(stderr=True).print(str(e))
        raise typer.Exit(1) from None
    table = Table(title=f"{len(items)} regions")
    for col in ("code", "name", "level"):
        table.add_column(col)
    for r in items[:200]:
        table.add_row(r.code, r.name, LEVEL_LABELS_ZH[r.level])
    console.print(table)
    if len(items) > 200:
        console.print(f"… {len(items) - 200} more")
