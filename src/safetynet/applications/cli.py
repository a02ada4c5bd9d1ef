"""`safetynet applications …`: submit an application from a JSON file, act on it, show it, list a
region's applications, run the daily sweep, and show or export the matter catalogue
(docs/contracts/applications.md). The CLI acts as the platform for the township: steps it records name
the platform acting for the household's township, and the operating-system user in the audit log.

Exit codes: 0 done; 1 refused (bad input, an action the lifecycle does not allow now, a conflict, not
found); 2 bad arguments (no such file, a date that is not a date)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from safetynet.applications import catalogue as matter_catalogue
from safetynet.applications import model
from safetynet.applications.submission import SubmissionError
from safetynet.cli.output import cli_actor, cli_engine
from safetynet.errors import NotFoundError, SafetynetError

app = typer.Typer(help="Applications and decisions (一门受理 · 审核确认).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"{option} {value!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None


def _refused(e: SafetynetError, *, as_json: bool, file: str | None = None) -> typer.Exit:
    """Report a refusal (nothing was written) and give the exit to raise (code 1): the field at fault,
    what valid looks like, in English and Chinese; with --json the same as JSON on stdout."""
    problems = getattr(e, "problems", None) or [(getattr(e, "field", None), getattr(e, "message", str(e)))]
    body: dict[str, Any] = {
        "status": "rejected",
        "code": getattr(e, "code", "not_found" if isinstance(e, NotFoundError) else "invalid"),
        "message": getattr(e, "message", str(e)),
        "message_zh": getattr(e, "message_zh", None),
        "field": getattr(e, "field", None),
        "errors": [{"file": file, "field": f, "reason": r} for f, r in problems],
    }
    if isinstance(e, model.TransitionError):
        body["allowed_actions"] = e.allowed
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False))
    else:
        for problem in body["errors"]:
            where = ": ".join(x for x in (file, problem["field"]) if x)
            err.print(f"[red]{where + ': ' if where else ''}{problem['reason']}[/red]")
        if body["message_zh"]:
            err.print(body["message_zh"])
    return typer.Exit(1)


@app.command("submit")
def submit_command(
    file: Path = typer.Argument(..., help="the application as JSON (docs/contracts/applications.md)"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Submit a counter application, accepted on its date by the platform acting for the township."""
    from safetynet.applications import intake

    if not file.is_file():
        err.print(f"{file}: no such file")
        raise typer.Exit(2)
    try:
        payload = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        raise _refused(
            SubmissionError(
                [
                    (
                        "(file)",
                        f"not valid UTF-8 JSON{where}: {e}; give one JSON object "
                        "{matter, household_id, applicant_id_number, submitted_on, "
                        "channel, …}",
                    )
                ]
            ),
            as_json=as_json,
            file=str(file),
        ) from None
    try:
        out = intake.submit(cli_engine(), payload=payload, actor=cli_actor(), source=str(file))
    except SafetynetError as e:
        raise _refused(e, as_json=as_json, file=str(file)) from None
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    console.print(
        f"application {out['application_id']} ({out['matter']}) for household {out['household_id']}: "
        f"{out['status']}, accepted on {out['accepted_on']}, due on {out['due_on']}"
        + (f", first aid due at {out['due_at']}" if out.get("due_at") else "")
    )


@app.command("act")
def act_command(
    application_id: int = typer.Argument(..., help="the application number"),
    action: str = typer.Argument(
        ...,
        help="investigate, notice, approve, refuse, withdraw (also accept, "
        "not_accept, aid, notify_refusal, enrol)",
    ),
    on: str | None = typer.Option(
        None, "--on", help="the day the action was taken, YYYY-MM-DD (default today)"
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="the reasons (required to refuse or not accept)"
    ),
    staff: str | None = typer.Option(
        None,
        "--staff",
        help="investigate: the two investigators, NAME,NAME (default: the platform acting for the township)",
    ),
    amount: str | None = typer.Option(None, "--amount", help="aid: the amount given first, in yuan"),
    as_json: bool = typer.Option(False, "--json", help="print the application as JSON (as show does)"),
) -> None:
    """Take an action on an application; prints it as `show` does. An action the lifecycle does not
    allow now exits 1 naming the actions allowed."""
    from safetynet.applications import service

    day = _date(on, "--on")
    try:
        out = service.act(
            cli_engine(),
            application_id=application_id,
            action=action,
            actor=cli_actor(),
            on=day,
            reason=reason,
            staff=staff,
            amount=amount,
        )
    except SafetynetError as e:
        raise _refused(e, as_json=as_json) from None
    _print(out, as_json=as_json)


@app.command("show")
def show_command(
    application_id: int = typer.Argument(..., help="the application number"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """An application: its status, dates, history, the assessment behind the decision and, once
    approved, the enrolment."""
    from safetynet.applications import service

    try:
        out = service.show(cli_engine(), application_id=application_id)
    except SafetynetError as e:
        raise _refused(e, as_json=as_json) from None
    _print(out, as_json=as_json)


def _print(out: dict, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    console.print(
        f"[bold]application {out['application_id']}[/bold] · {out['matter_name']['zh']} "
        f"({out['matter']}) · household {out['household_id']} · {out['status_label']['zh']} "
        f"({out['status']})"
    )
    dates = [(k, v) for k, v in out.items() if (k.endswith("_on") or k == "due_at") and v]
    console.print("  " + " · ".join(f"{k} {v}" for k, v in dates))
    if out["enrolment"]:
        e = out["enrolment"]
        console.print(f"  enrolment: {e['tier']} from {e['starts_on']}, {e['monthly_amount']} yuan a month")
    table = Table(title="history 办理记录")
    for header in ("on", "action", "status", "by", "note"):
        table.add_column(header)
    for h in out["history"]:
        table.add_row(h["on"], h["action"], h["to_status"], h["by"], h["note"] or "")
    console.print(table)
    console.print("  allowed now: " + (", ".join(out["allowed_actions"]) or "none"))


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help=", ".join(model.Status)),
    matter: str | None = typer.Option(None, "--matter", help="a matter id of the catalogue"),
    region: str | None = typer.Option(None, "--region", help="a region code (2/4/6/9/12 digits)"),
    household: str | None = typer.Option(None, "--household", help="the register's household number"),
    overdue: bool = typer.Option(False, "--overdue", help="only open applications past their due date"),
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(50, "--page-size", min=1, max=200),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Applications, open ones first by due date."""
    from safetynet.applications import views
    from safetynet.registry import search

    if status and status not in model.Status.__members__:
        err.print(f"--status {status!r}: one of {', '.join(model.Status)}")
        raise typer.Exit(2)
    engine = cli_engine()
    try:
        with engine.connect() as conn:
            out = views.list_applications(
                conn,
                now=dt.datetime.now(dt.UTC),
                region=region,
                status=status,
                matter=matter,
                household_no=household,
                overdue=overdue,
                page=page,
                page_size=page_size,
                masked=False,
            )
    except search.InvalidQuery as e:
        err.print(f"--region: {e}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    table = Table(title=f"applications ({out['total']})")
    for header in ("no.", "matter", "household", "applicant", "status", "accepted", "due", "overdue"):
        table.add_column(header)
    for i in out["items"]:
        table.add_row(
            str(i["application_id"]),
            i["matter"],
            i["household_id"],
            i["applicant_name"],
            i["status"],
            i["accepted_on"] or "",
            i["due_on"] or "",
            "!" if i["overdue"] else "",
        )
    console.print(table)


@app.command("sweep")
def sweep_command(
    on: str | None = typer.Option(None, "--on", help="the day of the sweep, YYYY-MM-DD (default today)"),
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Run daily: approved applications whose enrolment has begun become enrolled; provisional dates are
    counted again; reports the open applications past their due date."""
    from safetynet.applications import sweep

    out = sweep.sweep(cli_engine(), on=_date(on, "--on"))
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        console.print(
            f"{out['on']}: {out['enrolled']} enrolled, {out['recounted']} dates counted again, "
            f"{out['overdue']} open applications overdue, {out['failed']} failed"
        )
        for line in out["errors"][:20]:
            err.print(line)
    if out["failed"]:
        raise typer.Exit(1)


@app.command("catalogue")
def catalogue_command(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    on: str | None = typer.Option(None, "--on", help="show the values in force on this date (default today)"),
    file: Path | None = typer.Option(
        None, "--file", help="check and show this catalogue instead of the one in use"
    ),
    export: Path | None = typer.Option(None, "--export", help="write the default catalogue here to edit"),
    force: bool = typer.Option(False, "--force", help="with --export: overwrite an existing file"),
) -> None:
    """The matter catalogue (事项目录): who decides each matter, the department, the public notice and the
    time limit in force, each with its source."""
    if export is not None:
        if export.exists() and not force:
            err.print(f"{export} exists; not overwritten (add --force to replace it)")
            raise typer.Exit(1)
        export.parent.mkdir(parents=True, exist_ok=True)
        export.write_bytes(matter_catalogue.PACKAGED.read_bytes())
        console.print(
            f"wrote the default catalogue to {export}. Edit it, check it with `safetynet applications "
            f"catalogue --file {export}`, then install it as <data_dir>/applications/catalogue.yaml or "
            f"set {matter_catalogue.ENV_VAR}."
        )
        return
    day = _date(on, "--on") or dt.date.today()
    try:
        cat = matter_catalogue.load_catalogue(file)
    except matter_catalogue.CatalogueError as e:
        if as_json:
            typer.echo(
                json.dumps(
                    {"status": "rejected", "errors": [p.as_dict() for p in e.problems]}, ensure_ascii=False
                )
            )
        else:
            err.print(f"[red]Catalogue rejected.[/red] {e}")
        raise typer.Exit(1) from None
    except SafetynetError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(cat.as_dict(day), ensure_ascii=False))
        return
    table = Table(title=f"事项目录 {cat.path} · {day}", show_lines=True)
    for header in ("编号", "事项", "审核确认", "部门", "公示", "时限(工作日)", "开通类别"):
        table.add_column(header)
    for m in cat:
        limit = next((v.value for v in reversed(m.time_limit) if v.in_force(day)), None)
        table.add_row(
            m.id,
            m.name_zh,
            matter_catalogue.DECIDERS[m.decides.value]["zh"],
            m.department.value,
            "是" if m.needs_notice else "否",
            str(limit or "—") + (f" (先行救助 {m.aid_first_hours.value} 小时)" if m.aid_first_hours else ""),
            m.enrols or "",
        )
    console.print(table)
    console.print(f"{len(cat)} matters · digest {cat.digest()[:12]}")
