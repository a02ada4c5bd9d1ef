"""`safetynet linkage …`: link quarantined feed rows to the register, and the review queue."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.output import cli_actor, cli_engine
from safetynet.linkage import service

app = typer.Typer(help="Record linkage (记录关联) of feed rows with a missing or invalid id_number.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("run")
def run(
    threshold_auto: float = typer.Option(
        0.99, help="Link at once when the best candidate is at least this likely the row's person"),
    threshold_review: float = typer.Option(
        0.5, help="Else send to the review queue when the row's person is at least this likely among "
                  "its candidates"),
    retrain: bool = typer.Option(False, "--retrain", help="Retrain the model on the current register first"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score every quarantined row awaiting linkage against the register."""
    if not 0 < threshold_review <= threshold_auto <= 1:
        err.print("thresholds must satisfy 0 < review <= auto <= 1")
        raise typer.Exit(2)
    engine = cli_engine()
    if retrain:
        service.train(engine)
    r = service.link_quarantine(engine, threshold_auto=threshold_auto, threshold_review=threshold_review,
                                actor=cli_actor())
    if as_json:
        typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        return
    console.print(f"rows considered {r.rows:,}: linked {r.linked:,}, to review {r.review:,}, "
                  f"no match {r.no_match:,}" + (" (model trained)" if r.model_trained else ""))


@app.command("queue")
def queue(
    status: str = typer.Option("pending", help="pending | accepted | rejected | superseded"),
    limit: int = typer.Option(50), offset: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The clerical review queue."""
    page = service.list_candidates(cli_engine(), status=status, limit=limit, offset=offset)
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False, default=str))
        return
    table = Table(title=f"Link candidates ({status}): {page['total']:,}")
    for col in ("id", "feed", "record", "row name", "row birth", "person", "person birth", "p"):
        table.add_column(col)
    for c in page["items"]:
        table.add_row(str(c["id"]), c["feed"], c["record_id"] or "", str(c["row"].get("name") or ""),
                      str(c["row"].get("birth_date") or ""), c["person_name"],
                      c["person_birth_date"] or "", f"{c['match_probability']:.3f}")
    console.print(table)


def _decide(fn, candidate_id: int) -> None:  # noqa: ANN001
    try:
        out = fn(cli_engine(), candidate_id, cli_actor())
    except service.CandidateError as e:
        err.print(str(e))
        raise typer.Exit(1) from None
    typer.echo(json.dumps(out, ensure_ascii=False))


@app.command("accept")
def accept(candidate_id: int = typer.Argument(...)) -> None:
    """Accept a candidate: the quarantined row is linked to its person."""
    _decide(service.accept, candidate_id)


@app.command("reject")
def reject(candidate_id: int = typer.Argument(...)) -> None:
    """Reject a candidate: the row stays quarantined."""
    _decide(service.reject, candidate_id)


@app.command("score")
def score(truth: Path = typer.Option(..., "--truth", help="truth/ folder of a synthetic province")) -> None:
    """Precision and recall of the auto-links against a synthetic province's truth."""
    if not (truth / "bad_ids.parquet").is_file():
        err.print(f"no bad_ids.parquet in {truth}")
        raise typer.Exit(2)
    typer.echo(json.dumps(service.score(cli_engine(), truth), ensure_ascii=False))
