"""`safetynet assessment run|list|show`: batch assessment of the register as dated runs (thin)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from safetynet.assessment import model
from safetynet.cli.output import cli_actor, cli_engine

app = typer.Typer(help="Batch assessment (批量认定测算): every household of the register for a month, "
                       "saved as a dated run with the tier changes against current enrolments.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)

STEP_LABELS = {"facts": "计算家庭经济状况 facts", "assess": "规则认定 assess", "write": "保存结果 write"}


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def _fail(e: model.AssessmentInputError) -> None:
    err.print(f"{e.field}: {e}")
    raise typer.Exit(2)


def _summary_table(run: dict) -> Table:
    title = f"批量认定 #{run['id']} {run['month']}（{run['region'] or '全部'}，截至 {run['as_of']}）"
    table = Table(title=title)
    table.add_column("县（市、区）")
    for col in ("户数", *(model.TIER_LABELS[t] for t in model.RULE_TIERS), *model.CHANGE_LABELS.values(),
                "月救助金（元）"):
        table.add_column(col, justify="right")
    rows = [*run["summary"]["counties"], {"code": "", "name": "合计", **run["summary"]["total"]}]
    for i, s in enumerate(rows):
        table.add_row(f"{s['code']} {s['name']}".strip(), f"{s['households']:,}",
                      *(f"{s['assessed'][t]:,}" for t in model.RULE_TIERS),
                      *(f"{s['changes'][c]:,}" for c in model.CHANGE_LABELS),
                      _yuan(s["monthly_benefit_fen"]), end_section=i == len(rows) - 2)
    return table


@app.command("run")
def run(
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    region: str | None = typer.Option(None, "--region", help="only households under this code (e.g. 3704)"),
    as_json: bool = typer.Option(False, "--json", help="print the run summary as JSON"),
) -> None:
    """Assess every household for MONTH and save the result as a new dated run."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from safetynet.assessment import service

    try:
        model.check_month(month)
        region = model.check_region(region)
    except model.AssessmentInputError as e:
        _fail(e)
    engine = cli_engine()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("批量认定", total=None)
        result = service.run_assessment(
            engine, month=month, region=region, actor=cli_actor(),
            progress=lambda step: progress.update(task, description=STEP_LABELS.get(step, step)))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    console.print(_summary_table(result))
    t = result["timings"]
    console.print(f"run #{result['id']}: {result['households']:,} 户 / {result['persons']:,} 人，"
                  f"变化 {result['changed']:,} 户；facts {t['facts']:.1f} s, assess {t['assess']:.1f} s, "
                  f"write {t['write']:.1f} s")


@app.command("list")
def list_runs(
    month: str | None = typer.Option(None, "--month", help="only runs of this month (YYYY-MM)"),
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(20, "--page-size", min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Runs, newest first."""
    from safetynet.assessment import service

    try:
        out = service.list_runs(cli_engine(), month=month, page=page, page_size=page_size)
    except model.AssessmentInputError as e:
        _fail(e)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    table = Table(title=f"批量认定记录（共 {out['total']} 次）")
    counts = ("户数", "新纳入", "退出", "提档", "降档", "月救助金（元）")
    for col in ("编号", "月份", "范围", "状态", "完成时间", "操作人", *counts):
        table.add_column(col, justify="right" if col in counts else "left")
    for r in out["items"]:
        c = r["changes"]
        table.add_row(str(r["id"]), r["month"], r["region"] or "全部", r["status_label"],
                      (r["finished_at"] or "")[:19], r["actor"], f"{r['households']:,}",
                      *(f"{c.get(k, 0):,}" for k in ("new", "exit", "up", "down")),
                      _yuan(r["monthly_benefit_fen"]))
    console.print(table)


@app.command("show")
def show(
    run_id: int = typer.Argument(..., help="run number (see `safetynet assessment list`)"),
    changes: bool = typer.Option(False, "--changes", help="list the households that changed"),
    change: str | None = typer.Option(None, "--change",
                                      help="only this change: new, exit, up, down, unchanged"),
    county: str | None = typer.Option(None, "--county", help="only this county (6 digits)"),
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(50, "--page-size", min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One run: the summary by county, or with --changes its households (numbers masked)."""
    from safetynet.assessment import service
    from safetynet.errors import NotFoundError

    engine = cli_engine()
    try:
        run_ = service.get_run(engine, run_id=run_id)
        listing = service.list_changes(engine, run_id=run_id, change=change, county=county, page=page,
                                       page_size=page_size) if (changes or change or county) else None
    except model.AssessmentInputError as e:
        _fail(e)
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(listing if listing is not None else run_, ensure_ascii=False))
        return
    if listing is None:
        console.print(_summary_table(run_))
        return
    table = Table(title=f"批量认定 #{run_id} 变化户（第 {listing['page']} 页，共 {listing['total']:,} 户）")
    for col in ("户号", "县", "登记类别", "测算类别", "变化", "人均收入（元）", "低保标准（元）",
                "月救助金（元）"):
        table.add_column(col, justify="right" if "元" in col else "left")
    for x in listing["items"]:
        table.add_row(x["household_no"], x["county_code"], model.TIER_LABELS.get(x["registered_tier"],
                                                                                 x["registered_tier"]),
                      x["tier_label"], x["change_label"], _yuan(x["per_capita_income_fen"]),
                      _yuan(x["dibao_standard_fen"]), _yuan(x["benefit_fen"]))
    console.print(table)
