"""`safetynet verify …`: a family's authorisations, and the economic-condition verification
report of a household (家庭经济状况核对报告). Thin: the work is in `service`.

Exit codes: 0 done; 1 the household or authorisation does not exist; 2 bad arguments, or the
verification is refused because no authorisation valid today covers what was asked for."""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_actor, cli_engine
from safetynet.errors import NotFoundError
from safetynet.verification import model, service

app = typer.Typer(help="家庭经济状况核对 Family economic-condition verification: authorisations and reports.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    err.print(f"{option}: a date YYYY-MM-DD (or YYYY/MM/DD, YYYYMMDD); got {value!r}")
    raise typer.Exit(2)


@app.command("authorise")
def authorise(
    household_no: str = typer.Argument(..., help="户号 the register's household number"),
    signed: str = typer.Option(..., "--signed", help="签署日期 date the family signed, YYYY-MM-DD"),
    scope: str = typer.Option(..., "--scope", help=f"授权范围, comma-separated: {', '.join(model.SCOPES)}"),
    signer: str = typer.Option(..., "--signer", help="签署人 name of the member who signed"),
    document: str = typer.Option(..., "--document", help="授权书编号 reference of the signed document"),
    valid_until: str | None = typer.Option(None, "--valid-until", help="有效期至 (default: until revoked)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a family's signed authorisation (授权书) for the verification of its economic condition."""
    signed_on, until = _date(signed, "--signed"), _date(valid_until, "--valid-until")
    try:
        a = service.authorise(cli_engine(), household_no=household_no, signed_on=signed_on, scope=scope,
                              signer_name=signer, document_ref=document, valid_until=until, actor=cli_actor())
    except model.VerificationInputError as e:
        err.print(f"invalid --{e.field.replace('_', '-')}: {e}")
        raise typer.Exit(2) from None
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    view = service.authorisation_view(a)
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    until = view["valid_until"] or "撤销前长期有效"
    console.print(f"已登记授权 #{a.id}：户号 {household_no}，签署 {view['signed_on']}，"
                  f"签署人 {view['signer']}，范围 {'、'.join(view['scope_labels'])}，有效期至 {until}")


@app.command("authorisations")
def authorisations(household_no: str = typer.Argument(..., help="户号"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
    """A household's authorisations on record (签署人 masked)."""
    try:
        views = [service.authorisation_view(a)
                 for a in service.list_authorisations(cli_engine(), household_no=household_no)]
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(views, ensure_ascii=False))
        return
    t = Table(title=f"户号 {household_no} 的核对授权 ({len(views)})")
    for col in ("编号", "签署日期", "授权范围", "有效期至", "签署人", "授权书", "状态", "登记人", "登记时间"):
        t.add_column(col)
    for v in views:
        t.add_row(str(v["id"]), v["signed_on"], "、".join(v["scope_labels"]), v["valid_until"] or "长期",
                  v["signer"], v["document_ref"], v["status_label"], v["recorded_by"], v["recorded_at"][:19])
    console.print(t)


@app.command("revoke")
def revoke(household_no: str = typer.Argument(..., help="户号"),
           authorisation_id: int = typer.Argument(..., help="授权编号")) -> None:
    """Revoke an authorisation: from now on it allows no verification."""
    try:
        a = service.revoke(cli_engine(), household_no=household_no, authorisation_id=authorisation_id,
                           actor=cli_actor())
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    typer.echo(json.dumps(service.authorisation_view(a), ensure_ascii=False))


@app.command("report")
def report(
    household_no: str = typer.Argument(..., help="户号"),
    month: str | None = typer.Option(None, "--month", help="核对月份 YYYY-MM: the 12 months to it "
                                                            "(default: last complete month)"),
    scope: str | None = typer.Option(None, "--scope", help="kinds of data required, comma-separated "
                                                            f"(default: {','.join(model.MIN_SCOPE)})"),
    as_json: bool = typer.Option(False, "--json", help="the whole report as JSON"),
    assess: bool = typer.Option(False, "--assess", help="print the rules engine's assessment (JSON) "
                                                        "computed from the report's data alone"),
) -> None:
    """The verification report (家庭经济状况核对报告) of a household: income by item, assets,
    rigid expenditure, each figure with the feed rows behind it. Needs the family's
    authorisation on record."""
    from safetynet.config import get_settings

    engine = cli_engine()
    if assess and scope is not None:
        scope = ",".join(dict.fromkeys([*model.MIN_SCOPE, *scope.split(",")]))
    try:
        r = service.report(engine, household_no=household_no, month=month, scope=scope,
                           lake_dir=get_settings().data_dir / "lake", actor=cli_actor())
    except model.NotAuthorisedError as e:
        err.print(f"[red]拒绝核对 Refused.[/red] {e.message_zh}\n{e.message_en}")
        raise typer.Exit(2) from None
    except model.VerificationInputError as e:
        err.print(f"invalid --{e.field}: {e}")
        raise typer.Exit(2) from None
    except NotFoundError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    if assess:
        typer.echo(json.dumps(service.assess(engine, report=r), ensure_ascii=False))
        return
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False))
        return
    from safetynet.verification.render import print_report

    print_report(console, r)
