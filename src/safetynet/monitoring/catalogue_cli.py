"""`safetynet monitor catalogue`: show the monitoring rules and their values in force, or export the
default catalogue for a province to edit (the lead mounts `app` as `monitor`)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from safetynet.errors import ConfigurationError
from safetynet.monitoring.catalogue import (
    ENV_VAR,
    LEVEL_LABELS,
    NEED_LABELS,
    PACKAGED,
    POPULATION_LABELS,
    SIDES,
    Catalogue,
    CatalogueError,
    Rule,
    Value,
    load_catalogue,
)

app = typer.Typer(help="Dynamic monitoring and early warning (动态监测 · 主动预警).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Keep `catalogue` a subcommand while other monitor commands are mounted beside it."""


_UNIT_WORDS = {"months": "个月", "years": "岁", "days": "天"}


def _show(value: Value | None, unit: str) -> str:
    if value is None:
        return "—（未生效）"
    if unit == "yuan":
        fen = int(value)  # type: ignore[arg-type]
        return f"{fen // 100}.{fen % 100:02d}元"
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, Decimal):
        return str(value)
    return f"{value}{_UNIT_WORDS.get(unit, '')}"


def _levels(rule: Rule, on: dt.date) -> str:
    if not rule.levels:
        return LEVEL_LABELS[rule.level or ""]
    units = {p.name: p.unit for p in rule.parameters}
    values = rule.values_on(on)
    return " / ".join(f"{LEVEL_LABELS[lv.level]}≥{_show(values[lv.when], units[lv.when])}"
                      for lv in rule.levels)


def _table(cat: Catalogue, on: dt.date) -> Table:
    table = Table(title=f"监测预警规则 {cat.path} · 参数执行日 {on}", show_lines=True)
    for header in ("编号", "中文名", "需求", "方向", "等级", "抑制期(月)", "监测对象", "参数"):
        table.add_column(header)
    for rule in cat:
        values = rule.values_on(on)
        params = "\n".join(f"{p.name} = {_show(values[p.name], p.unit)}" for p in rule.parameters)
        table.add_row(rule.id, rule.name_zh, NEED_LABELS[rule.need], SIDES[rule.side], _levels(rule, on),
                      str(rule.suppression_months), "、".join(POPULATION_LABELS[p] for p in rule.population),
                      params)
    return table


def _export(path: Path, *, force: bool, as_json: bool) -> None:
    if path.exists() and not force:
        err.print(f"{path} exists; not overwritten (add --force to replace it)")
        raise typer.Exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PACKAGED.read_bytes())
    if as_json:
        typer.echo(json.dumps({"exported": str(path)}, ensure_ascii=False))
    else:
        console.print(f"wrote the default catalogue to {path}. Edit it, check it with "
                      f"`safetynet monitor catalogue --file {path}`, then install it as "
                      f"<data_dir>/monitoring/catalogue.yaml or set {ENV_VAR}.")


@app.command("catalogue")
def catalogue_command(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    on: str | None = typer.Option(None, "--on", help="show parameter values in force on this date, "
                                                     "YYYY-MM-DD (default today)"),
    file: Path | None = typer.Option(None, "--file", help="check and show this catalogue file instead of "
                                                          "the one in use"),
    export: Path | None = typer.Option(None, "--export", help="write the default catalogue here to edit"),
    force: bool = typer.Option(False, "--force", help="with --export: overwrite an existing file"),
) -> None:
    """List the monitoring rules (预警规则目录) with their parameter values in force on a date."""
    if export is not None:
        _export(export, force=force, as_json=as_json)
        return
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        err.print(f"--on {on!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None
    try:
        cat = load_catalogue(file)
    except CatalogueError as e:
        if as_json:
            typer.echo(json.dumps({"status": "rejected", "errors": [p.as_dict() for p in e.problems]},
                                  ensure_ascii=False))
        else:
            err.print(f"[red]Catalogue rejected.[/red] {e}")
        raise typer.Exit(1) from None
    except ConfigurationError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"file": str(cat.path), "digest": cat.digest(), "on": day.isoformat(),
                               "rules": [r.as_dict(day) for r in cat]}, ensure_ascii=False))
    else:
        console.print(_table(cat, day))
        console.print(f"{len(cat)} rules · digest {cat.digest()[:12]}")
