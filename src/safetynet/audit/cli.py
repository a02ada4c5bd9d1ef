"""`safetynet audit verify`: recompute the audit log's hash chain (thin)."""

from __future__ import annotations

import json

import typer
from rich.console import Console

app = typer.Typer(help="The audit log (审计日志): check that no row was altered, inserted or removed.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="print the result as JSON")) -> None:
    """Recompute every row's hash in id order and compare the chain head. Exit 0 when the log is
    intact, 1 at the first altered, inserted or missing row (or a head or key that does not fit)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from safetynet.audit import service
    from safetynet.config import get_settings
    from safetynet.db import get_engine

    if not get_settings().database_exists():
        err.print(f"no database at {get_settings().embedded_database}: nothing to verify")
        raise typer.Exit(1)
    # read only: no migration here, a copy of a store is checked exactly as it is
    engine = get_engine()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True, disable=as_json) as progress:
        task = progress.add_task("校验审计链 verifying", total=None)
        report = service.verify(engine, progress=lambda n: progress.update(
            task, description=f"校验审计链 verifying: {n:,} rows"))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif report.ok:
        console.print(f"[green]OK[/green] 审计日志完整 the audit log is intact: {report.rows:,} rows"
                      + (f", last row #{report.last_id}" if report.last_id else ""))
    else:
        b = report.broken
        console.print(f"[red]BROKEN[/red] ({b.problem}) {b.message}\n{b.message_zh}\n"
                      f"{report.rows:,} rows in order before it" + (f", up to row #{report.last_id}"
                                                                      if report.last_id else ""))
    if not report.ok:
        raise typer.Exit(1)
