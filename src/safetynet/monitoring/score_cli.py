"""`safetynet monitor score --truth DIR/truth`: recall and precision of the warnings per rule against a
synthetic province's planted events (thin; the lead mounts `score_command` under `monitor`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_engine
from safetynet.errors import ConfigurationError
from safetynet.monitoring.catalogue import CatalogueError, load_catalogue
from safetynet.monitoring.score import ScoreInputError, score_store

console = Console()
err = Console(stderr=True)

NO_TRUTH = "无预埋事件 no planted events"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _table(result: dict) -> Table:
    table = Table(title=f"监测预警对照真值 Warnings scored against truth · {', '.join(result['months'])}")
    table.add_column("规则\nrule", overflow="fold")
    for header in ("预埋事件\nplanted", "命中\nfound", "召回率\nrecall", "预警\nwarnings",
                   "有对应事件\nmatched", "精确率\nprecision"):
        table.add_column(header, justify="right")
    for r in result["rules"]:
        if r["planted"] is None:
            table.add_row(r["rule"], "—", "—", NO_TRUTH, _count(r["warnings"]), "—", "—")
            continue
        table.add_row(r["rule"], _count(r["planted"]), _count(r["found"]), _share(r["recall"]),
                      _count(r["warnings"]), _count(r["matched"]), _share(r["precision"]))
    o = result["overall"]
    table.add_section()
    table.add_row("合计 overall\n（微平均 micro）", _count(o["planted"]), _count(o["found"]),
                  _share(o["recall"]), _count(o["warnings"]), _count(o["matched"]), _share(o["precision"]))
    return table


def score_command(
    truth: Path = typer.Option(..., "--truth", help="the truth/ folder of a synthetic province "
                                                    "(`safetynet synth --out DIR` writes DIR/truth)"),
    month: list[str] | None = typer.Option(None, "--month", help="YYYY-MM to score; repeat for several "
                                                                 "(default: every month with a finished "
                                                                 "monitor run)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of a table"),
) -> None:
    """Recall and precision of the warnings per rule against the planted events (对照真值评分)."""
    try:
        catalogue = load_catalogue()
    except CatalogueError as e:
        err.print(f"[red]Catalogue rejected.[/red] {e}")
        raise typer.Exit(1) from None
    except ConfigurationError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    try:
        result = score_store(cli_engine(), truth, catalogue.rules, months=month or None)
    except ScoreInputError as e:
        err.print(f"{e.field}: {e}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    console.print(_table(result))
    unscored = result["overall"]["unscored_warnings"]
    if unscored:
        console.print(f"另有 {unscored:,} 条预警属于无预埋事件的规则，未计入精确率 "
                      f"({unscored:,} warnings of rules without planted events are not in the precision).")
