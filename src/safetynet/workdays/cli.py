"""`safetynet calendar …`: the working-day calendar (工作日历) — seed it, add a year from the State
Council's notice, show a year (thin; the lead registers `app` as `calendar`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_actor, cli_engine, rejected
from safetynet.errors import InputFileError, RowError
from safetynet.workdays import files, model, service
from safetynet.workdays.model import CalendarGapError, CalendarInputError, CalendarYearExistsError

app = typer.Typer(help="Working-day calendar (工作日历): holidays and adjusted working days by year.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)
WEEKDAYS_ZH = "一二三四五六日"


@app.command("seed")
def seed(as_json: bool = typer.Option(False, "--json", help="print the years added as JSON")) -> None:
    """Store every year chinese_calendar knows that the calendar does not hold yet (idempotent)."""
    added = service.seed_from_package(cli_engine(), actor=cli_actor())
    if as_json:
        typer.echo(json.dumps({"added": added}))
    elif added:
        console.print(f"calendar: added {len(added)} year(s) from chinese_calendar: {added[0]}–{added[-1]}")
    else:
        console.print("calendar: every year chinese_calendar knows is already held; nothing added")


@app.command("add-year")
def add_year(
    year: int = typer.Option(..., "--year", help="the year of the notice, e.g. 2027"),
    file: Path = typer.Option(..., "--file", help=f"one row per day: date, kind (holiday|workday), name "
                              f"({files.FORMS})"),
    note: str = typer.Option(..., "--note",
                             help="the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知"),
    replace: bool = typer.Option(False, "--replace",
                                 help="replace the year if the calendar holds it already"),
    as_json: bool = typer.Option(False, "--json", help="print the stored year as JSON"),
) -> None:
    """Add YEAR's schedule (weekdays off, weekend days worked) from the published notice."""
    try:
        holidays, workdays = files.read_year_file(file, year)
        view = service.add_year(cli_engine(), year=year, holidays=holidays, workdays=workdays,
                                actor=cli_actor(), note=note, replace=replace)
    except InputFileError as e:
        raise rejected(e, as_json=as_json, hint="one row per day: date (YYYY-MM-DD), kind (holiday|workday), "
                       "name") from None
    except CalendarInputError as e:
        raise rejected(InputFileError([RowError(file.name, None, p.field, p.message) for p in e.problems]),
                       as_json=as_json) from None
    except CalendarYearExistsError as e:
        raise rejected(InputFileError([RowError(file.name, None, "year", str(e))]), as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    c = view["counts"]
    console.print(f"calendar {year}: {c['holidays']} holiday(s) on weekdays, {c['workdays']} adjusted "
                  f"working day(s), {c['working_days']} working days in the year")


@app.command("show")
def show(
    year: int | None = typer.Option(None, "--year", help="the year to show; without it, the years held"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """One year's holidays and adjusted working days, or the list of years the calendar holds."""
    engine = cli_engine()
    with engine.connect() as conn:
        if year is None:
            years = service.years_view(conn)
            if as_json:
                typer.echo(json.dumps({"items": years, "total": len(years)}, ensure_ascii=False))
                return
            table = Table(title=f"工作日历：{len(years)} 年")
            for col in ("年份", "来源", "放假（工作日）", "调休上班", "录入人", "说明"):
                table.add_column(col)
            for y in years:
                table.add_row(str(y["year"]), y["source"], str(y["holidays"]), str(y["workdays"]),
                              y["added_by"], y["note"] or "")
            console.print(table)
            return
        try:
            view = service.year_view(conn, year)
        except CalendarGapError as e:
            if as_json:
                typer.echo(json.dumps({"status": "unknown", "year": year, "message": str(e)},
                                      ensure_ascii=False))
            else:
                err.print(str(e))
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    c = view["counts"]
    table = Table(title=f"{year} 工作日历（{view['source']}）：{c['working_days']} 个工作日")
    for col in ("日期", "星期", "类型", "名称"):
        table.add_column(col)
    for d in view["days"]:
        kind = model.KIND_LABELS[d["kind"]]["zh"]
        table.add_row(d["date"], WEEKDAYS_ZH[d["weekday"] - 1],
                      f"[green]{kind}[/green]" if d["is_workday"] else f"[red]{kind}[/red]", d["name"])
    console.print(table)
