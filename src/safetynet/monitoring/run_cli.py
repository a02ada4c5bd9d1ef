"""`safetynet monitor run --month YYYY-MM [--engine duckdb|spark] [--json]`: the monthly monitor run
(thin: the work is monitoring.service.run_month)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_actor, cli_engine
from safetynet.config import get_settings
from safetynet.errors import SafetynetError
from safetynet.monitoring.catalogue import LEVEL_LABELS, CatalogueError, load_catalogue
from safetynet.monitoring.warnings import WarningInputError, check_month

console = Console()
err = Console(stderr=True)
ENGINES = ("duckdb", "spark")


def _fail(field: str, message: str, code: int = 2) -> None:
    err.print(f"{field}: {message}")
    raise typer.Exit(code)


def run_command(
    month: str = typer.Option(..., "--month", help="YYYY-MM: the month to examine"),
    engine_name: str = typer.Option("duckdb", "--engine", help="analytics engine: duckdb (default) or spark"),
    as_json: bool = typer.Option(False, "--json", help="print the run report as JSON"),
) -> None:
    """Examine everyone against MONTH's department data and record the warnings (re-running a month is
    safe: it updates, never duplicates)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from safetynet.monitoring.service import run_month

    try:
        check_month(month)
    except WarningInputError as e:
        _fail(e.field, str(e))
    if engine_name not in ENGINES:
        _fail("engine", f"engine must be one of {', '.join(ENGINES)}, got {engine_name!r}")
    try:
        catalogue = load_catalogue()
    except CatalogueError as e:
        _fail("catalogue", str(e), 1)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("动态监测", total=None)
        try:
            report = run_month(cli_engine(), month=month, lake_dir=get_settings().data_dir / "lake",
                               actor=cli_actor(), backend=engine_name, catalogue=catalogue,
                               progress=lambda step: progress.update(task, description=step))
        except SafetynetError as e:
            _fail("monitor", str(e), 1)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    names = {r.id: r.name_zh for r in catalogue}
    table = Table(title=f"{month} 动态监测预警（运行 #{report['run_id']}，{report['engine']}）")
    for col in ("规则 rule", "预警 warnings", "用时 s"):
        table.add_column(col, justify="right" if col != "规则 rule" else "left")
    for rule in catalogue:
        table.add_row(f"{rule.id} {names[rule.id]}", f"{report['by_rule'].get(rule.id, 0):,}",
                      f"{report['timings'].get(rule.id, 0):.2f}")
    console.print(table)
    levels = "，".join(f"{LEVEL_LABELS[k]} {v:,}" for k, v in report["by_level"].items())
    rec = report["recorded"]
    console.print(f"共 {report['warnings']:,} 条（{levels or '无'}）；新建 {rec['created']:,}，"
                  f"更新 {rec['updated']:,}，未变 {rec['unchanged']:,}；{report['seconds']:.1f} s，峰值内存 "
                  f"{report['peak_rss_bytes'] / 2**30:.2f} GB")
    for note in report["notes"]:
        console.print(f"[yellow]注意 note[/yellow]: {note}")
