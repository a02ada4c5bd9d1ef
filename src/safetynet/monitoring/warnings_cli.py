"""`safetynet warnings list`: a month's warnings (thin; the lead registers `app` as `warnings`)."""

from __future__ import annotations

import json
import re

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_engine
from safetynet.identity import mask_id_number
from safetynet.monitoring.warnings import LEVELS, WarningInputError, check_month, list_warnings

app = typer.Typer(help="Warnings (预警): what the monitoring rules raised each month.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

LEVEL_LABELS = {"blue": "[blue]蓝[/blue]", "yellow": "[yellow]黄[/yellow]",
                "orange": "[dark_orange]橙[/dark_orange]", "red": "[red]红[/red]"}
STATUS_LABELS = {"new": "新预警", "dispatched": "处置中", "closed": "已办结"}


def _fail(field: str, message: str) -> None:
    err.print(f"{field}: {message}")
    raise typer.Exit(2)


@app.callback()
def _group() -> None:
    """Keep `list` a subcommand even while it is the only one."""


@app.command("list")
def list_command(
    month: str = typer.Option(..., "--month", help="YYYY-MM: warnings that fired in this month"),
    rule: str | None = typer.Option(None, "--rule", help="only this rule id (e.g. income_drop)"),
    level: str | None = typer.Option(None, "--level", help="only this level: blue, yellow, orange, red"),
    region: str | None = typer.Option(None, "--region", help="only households under this code (e.g. 3704)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON array (id numbers unmasked)"),
) -> None:
    """List the warnings that fired in MONTH, most severe first."""
    try:
        check_month(month)
    except WarningInputError as e:
        _fail(e.field, str(e))
    if level is not None and level not in LEVELS:
        _fail("level", f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if region is not None and not re.fullmatch(r"\d{1,14}", region):
        _fail("region", f"region must be a region code prefix of digits (e.g. 3704), got {region!r}")
    result = list_warnings(cli_engine(), month=month, scope_prefix=region or "", rule=rule, level=level,
                           page_size=None)
    items = result["items"]
    if as_json:
        typer.echo(json.dumps([{"warning_id": r["warning_id"], "rule": r["rule"], "month": r["month"],
                                "level": r["level"], "id_number": r["id_number"],
                                "household_id": r["household_no"], "status": r["status"]} for r in items],
                              ensure_ascii=False))
        return
    table = Table(title=f"{month} 预警（{region or '全部'}）：{result['total']:,} 条")
    for col in ("预警编号", "规则", "等级", "身份证号", "户编号", "区划", "指标值", "首次预警", "状态"):
        table.add_column(col)
    for r in items:
        table.add_row(str(r["warning_id"]), r["rule"], LEVEL_LABELS.get(r["level"], r["level"]),
                      mask_id_number(r["id_number"]), r["household_no"] or "", r["region_code"],
                      r["value"] or "",
                      r["raised_month"], STATUS_LABELS.get(r["status"], r["status"]))
    console.print(table)
