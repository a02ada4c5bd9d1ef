"""`safetynet tasks …`: the closed loop's jobs for data officers — dispatch a month's warnings as tasks
(classified push), escalate overdue tasks, show the routing table and the region's figures."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_engine
from safetynet.monitoring.warnings import WarningInputError, check_month

app = typer.Typer(
    help="Tasks (闭环处置): dispatch warnings, escalate overdue tasks, routing.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


@app.command("dispatch")
def dispatch_command(
    month: str = typer.Option(..., "--month", help="YYYY-MM: the monitor run's month"),
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Turn the month's new warnings into tasks: a field check each (grid or township) and a push to the
    responsible department by need. Safe to re-run: a warning with tasks gets none again."""
    from safetynet.casework.service import dispatch_month

    try:
        check_month(month)
    except WarningInputError as e:
        err.print(f"month: {e}")
        raise typer.Exit(2) from None
    with console.status(f"dispatching the warnings of {month} …"):
        out = dispatch_month(cli_engine(), month=month)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    console.print(
        f"{month}: {out['warnings']:,} warnings → {out['tasks']:,} tasks "
        f"({out['field_checks']:,} field checks, {out['department_pushes']:,} department pushes); "
        f"{out['notifications']:,} notifications"
    )
    if out["provisional_deadlines"]:
        console.print(
            f"[yellow]{out['provisional_deadlines']:,} deadlines are provisional: the working-day "
            "calendar lacks a year (safetynet calendar add-year)[/yellow]"
        )


@app.command("sweep")
def sweep_command(as_json: bool = typer.Option(False, "--json", help="print the counts as JSON")) -> None:
    """Escalate every open task past its deadline to the next level (run daily)."""
    from safetynet.casework.service import sweep_overdue

    out = sweep_overdue(cli_engine())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    console.print(
        f"checked {out['checked']:,} overdue tasks: {out['escalated']:,} escalated, {out['failed']:,} failed"
    )
    for line in out["errors"][:20]:
        err.print(line)
    if out["failed"]:
        raise typer.Exit(1)


@app.command("routing")
def routing_command(as_json: bool = typer.Option(False, "--json", help="print the table as JSON")) -> None:
    """The routing table in force: need → department and level."""
    import datetime as dt

    from safetynet.casework.service import routing_in_force, seed_routing

    engine = cli_engine()
    with engine.begin() as conn:
        seed_routing(conn)
        rules = routing_in_force(conn, on=dt.date.today())
    if as_json:
        typer.echo(json.dumps(rules, ensure_ascii=False))
        return
    table = Table(title="分类推送规则 routing")
    for col in ("need", "department", "level", "valid_from", "source"):
        table.add_column(col)
    for need, r in sorted(rules.items()):
        table.add_row(need, r["department"], r["level"], r["valid_from"], (r["source"] or "")[:60])
    console.print(table)
