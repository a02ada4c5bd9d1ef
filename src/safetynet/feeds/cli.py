"""`safetynet feeds …`: ingest department feed files (docs/contracts/feeds.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from safetynet.cli.output import cli_actor
from safetynet.feeds import service
from safetynet.feeds.model import FeedFileNameError

app = typer.Typer(help="Department data feeds (部门数据): loads into the lake, with a ledger.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(..., help="Feed files or folders of them, "
                                                 "named <feed>_<YYYYMM>[_<part>].<csv|xlsx|parquet>"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file (for machines)"),
    link: bool = typer.Option(True, "--link/--no-link",
                              help="Link rows with a missing or invalid id_number to the register with "
                                   "the saved linkage model (记录关联), if one was trained"),
) -> None:
    """Load feed files: exit 0 when every file was loaded or unchanged, 1 when any was
    rejected, 2 for bad arguments."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        err.print(f"not found: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    files = service.expand_paths(paths)
    if not files:
        err.print("no .csv, .xlsx or .parquet files in the paths given")
        raise typer.Exit(2)
    from safetynet.feeds.model import parse_file_name

    try:
        for f in files:
            parse_file_name(f.name)
    except FeedFileNameError as e:
        err.print(str(e))
        raise typer.Exit(2) from None

    from safetynet.bootstrap import init_database
    from safetynet.config import get_settings
    from safetynet.db import get_engine

    engine = get_engine()
    init_database(engine)
    lake_dir = get_settings().data_dir / "lake"
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("ingesting", total=len(files))

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"ingesting {name}")

        linking = None
        if link:
            from safetynet.linkage.service import default_model_path

            linking = service.Linking(default_model_path())
        reports = service.ingest(engine, paths=files, lake_dir=lake_dir, actor=cli_actor(), progress=progress,
                                 linking=linking)
    if as_json:
        for r in reports:
            typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
    else:
        _print(reports)
    if any(r.status == "rejected" for r in reports):
        raise typer.Exit(1)


def _print(reports: list[service.LoadReport]) -> None:
    table = Table(title="Feed loads")
    for col in ("file", "feed", "month", "status", "rows", "accepted", "linked", "quarantined",
                "duplicate", "corrected"):
        table.add_column(col, justify="right" if col not in ("file", "feed", "month", "status") else "left")
    colour = {"loaded": "green", "unchanged": "dim", "rejected": "red"}
    for r in reports:
        table.add_row(r.file, r.feed, r.month, f"[{colour[r.status]}]{r.status}[/]", f"{r.rows:,}",
                      f"{r.accepted:,}", f"{r.linked:,}", f"{r.quarantined:,}", f"{r.duplicate:,}",
                      f"{r.corrected:,}")
    console.print(table)
    for r in reports:
        shown = r.errors[:20]
        for e in shown:
            where = f"line {e['line']}" if e["line"] is not None else "file"
            col = f", column {e['column']}" if e["column"] else ""
            tag = "[red]rejected[/red]" if r.status == "rejected" else "[yellow]quarantined[/yellow]"
            err.print(f"{tag} {r.file}, {where}{col}: {e['reason']}")
        if len(r.errors) > len(shown):
            err.print(f"… and {len(r.errors) - len(shown)} more in {r.file}")
