"""`safetynet registry …`: import a register, show a household."""

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
from safetynet.registry import model, service

app = typer.Typer(help="The register of households and persons (低收入人口名册).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("import")
def import_(
    directory: Path = typer.Argument(..., help="Folder with households.* and persons.*"),
    partial: bool = typer.Option(False, "--partial", help="Load the valid rows even if some are invalid"),
    as_of: str = typer.Option(None, help="Date the register is valid from (YYYY-MM-DD); default today"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import a register (docs/contracts/registry.md). All-or-nothing unless --partial."""
    try:
        as_of_date = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"--as-of {as_of!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None
    if not directory.is_dir():
        err.print(f"{directory} is not a folder; expected one holding households.csv and persons.csv")
        raise typer.Exit(2)
    from safetynet.bootstrap import init_database

    engine = get_engine()
    init_database(engine)
    try:
        with console.status("importing register…") as status:
            report = service.import_register(
                engine, directory=directory, partial=partial, as_of=as_of_date,
                progress=lambda msg: status.update(f"importing register: {msg}…"),
            )
    except InputFileError as e:
        raise rejected(e, as_json=as_json,
                       hint="Fix the rows above, or re-run with --partial to load the valid rows.") from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    table = Table(title=f"Register import #{report.import_id}: {report.status}")
    for col in ("records", "new / opened", "changed / closed", "unchanged"):
        table.add_column(col)
    for name, c in report.counts.items():
        if name == "rows":
            continue
        table.add_row(name, str(c.get("new", c.get("opened", 0))),
                      str(c.get("changed", c.get("closed", 0))), str(c.get("unchanged", 0)))
    console.print(table)
    for e in report.errors[:50]:
        err.print(f"[yellow]skipped[/yellow] {e}")
    if len(report.errors) > 50:
        err.print(f"… and {len(report.errors) - 50} more skipped rows")


@app.command("show")
def show(
    household: str = typer.Argument(..., help="The register's household id"),
) -> None:
    """A household, its members and their tiers (names and id numbers masked; unmasked
    reads arrive with sign-in, roles and the audit log)."""
    try:
        h = service.get_household(get_engine(), household_no=household)
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    console.print(f"[bold]{h.household_no}[/bold]  region {h.region_code}  "
                  f"{model.REGISTRATION_LABELS[h.registration]}  "
                  f"tier {model.TIER_LABELS[h.tier]} ({h.tier})  v{h.version}")
    table = Table()
    for col in ("name 姓名", "id 身份证号", "sex", "birth", "relation", "tier", "since", "benefit"):
        table.add_column(col)
    for m in h.members:
        benefit = f"{m.monthly_benefit_fen / 100:.2f}" if m.monthly_benefit_fen is not None else ""
        table.add_row(m.name, m.id_number, m.sex, m.birth_date.isoformat(),
                      model.RELATION_LABELS[m.relation], model.TIER_LABELS[m.tier],
                      m.since.isoformat() if m.since else "", benefit)
    console.print(table)


@app.command("imports")
def imports(limit: int = typer.Option(20, help="How many, newest first")) -> None:
    """The import ledger: source, time, actor, outcome and counts."""
    table = Table(title="Register imports 名册导入记录")
    for col in ("#", "finished", "actor", "as of", "status", "persons new/changed", "source"):
        table.add_column(col)
    for r in service.list_imports(get_engine(), limit=limit):
        persons = r["counts"].get("persons", {})
        table.add_row(str(r["id"]), r["finished_at"].strftime("%Y-%m-%d %H:%M"), r["actor"],
                      r["as_of"].isoformat(), r["status"],
                      f"{persons.get('new', 0)}/{persons.get('changed', 0)}", r["source"])
    console.print(table)
