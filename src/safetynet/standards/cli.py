"""`safetynet standards …`: local assistance standards (地方救助标准)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import rejected
from safetynet.db import get_engine
from safetynet.errors import InputFileError, NotFoundError
from safetynet.standards import model, service

app = typer.Typer(help="Local assistance standards by region, registration and date.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _parse_yuan(text: str, option: str) -> int:
    import pyarrow as pa

    from safetynet import cells

    parsed = cells.parse_money_fen(pa.array([text]))
    if parsed.invalid[0]:
        err.print(f"{option} {text!r} is not an amount: {cells.MONEY_FORM}")
        raise typer.Exit(2)
    return parsed.values[0].as_py()


@app.command("import")
def import_(file: Path, as_json: bool = typer.Option(False, "--json")) -> None:
    """Import standards (columns region, registration, kind, effective_from, amount, source)."""
    from safetynet.bootstrap import init_database

    engine = get_engine()
    init_database(engine)
    try:
        report = service.import_standards(engine, path=file)
    except InputFileError as e:
        raise rejected(e, as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        console.print(f"standards: {report.new} new, {report.changed} changed (old kept), "
                      f"{report.unchanged} unchanged")


@app.command("derive")
def derive(
    region: str = typer.Option(..., help="County code, e.g. 370402"),
    effective_from: str = typer.Option(..., help="YYYY-MM-DD"),
    urban: str = typer.Option(None, help="New urban dibao standard, yuan/person/month"),
    rural: str = typer.Option(None, help="New rural dibao standard, yuan/person/month"),
    source: str = typer.Option(..., help="Document that sets the new standard"),
) -> None:
    """Set a new dibao standard and derive the linked standards (dynamic adjustment)."""
    try:
        since = dt.date.fromisoformat(effective_from)
    except ValueError:
        err.print(f"--effective-from {effective_from!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None
    dibao = {}
    if urban:
        dibao["urban"] = _parse_yuan(urban, "--urban")
    if rural:
        dibao["rural"] = _parse_yuan(rural, "--rural")
    if not dibao:
        err.print("give --urban and/or --rural")
        raise typer.Exit(2)
    try:
        written = service.derive_from_dibao(get_engine(), region=region, effective_from=since,
                                            dibao_fen=dibao, source=source)
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    table = Table(title=f"{region} from {since}")
    table.add_column("kind")
    for reg in written:
        table.add_column(reg)
    kinds = sorted({k for v in written.values() for k in v})
    for k in kinds:
        table.add_row(model.KIND_LABELS.get(k, k), *(_yuan(written[r][k]) if k in written[r] else ""
                                                    for r in written))
    console.print(table)


@app.command("show")
def show(
    region: str = typer.Argument(..., help="Region code (any level; falls back to city/province)"),
    registration: str = typer.Option("urban", help="urban or rural"),
    on: str = typer.Option(None, help="Date (default today)"),
) -> None:
    """The standards in force for a place on a date."""
    day = dt.date.fromisoformat(on) if on else dt.date.today()
    try:
        values = service.lookup(get_engine(), region=region, registration=registration, on=day)
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    table = Table(title=f"{region} {registration} on {day}")
    table.add_column("kind")
    table.add_column("yuan/month")
    for k, v in sorted(values.items()):
        table.add_row(f"{model.KIND_LABELS.get(k, k)} ({k})", _yuan(v))
    console.print(table)
