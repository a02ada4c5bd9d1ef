"""`safetynet demo` and `safetynet serve`: the platform on the embedded default."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import typer
from rich.console import Console

from safetynet.config import get_settings
from safetynet.db import get_engine

console = Console()


def serve(
    host: str = typer.Option(None, help="Address to listen on (default 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default 8000)"),
    workers: int = typer.Option(1, min=1, help="Server processes: one Python process uses one core, "
                                "so a busy server runs about one per core"),
    access_log: bool = typer.Option(True, help="Log each request (a proxy in front may keep this log "
                                    "instead)"),
) -> None:
    """Start the web platform."""
    from safetynet.api import server
    from safetynet.api.app import create_app
    from safetynet.bootstrap import init_database

    settings = get_settings()
    engine = get_engine()
    init_database(engine)
    host, port = host or settings.host, port or settings.port
    console.print(f"safetynet at [bold]http://{host}:{port}/[/bold]  (API docs: /api/v1/docs)")
    if settings.session_cookie_secure:
        console.print("the session cookie is Secure (sent over HTTPS only): serve behind a TLS proxy, or, "
                      "for plain http on a trusted network, set SAFETYNET_SESSION_COOKIE_SECURE=false")
    # several workers: each process builds its own app and engine from the same settings
    try:
        server.run(host=host, port=port, workers=workers, access_log=access_log,
                   app=server.APP if workers > 1 else create_app(engine))
    except OSError as e:  # the address is taken or not this machine's
        console.print(f"[red]cannot listen on {host}:{port}: {e.strerror or e}[/red] — is another server "
                      "running there? Choose another with --port or SAFETYNET_PORT.")
        raise typer.Exit(1) from None


def _demo_users(engine, province: str) -> None:  # noqa: ANN001
    """One account per role in the demo province; the list is printed for whoever runs the demo."""
    from safetynet.auth import service as auth_service
    from safetynet.auth.cli import print_demo_totp, print_users

    users = auth_service.seed_demo_users(engine, province=province)
    print_users(users, title=f"demo users — sign in with password {auth_service.DEMO_PASSWORD} (演示账户)")
    print_demo_totp(users)


def _plain_http_cookie() -> None:
    """The demo serves plain http. A Secure cookie set over http is kept by a browser only on
    127.0.0.1/localhost and never sent back by scripts' cookie jars (or by a browser on another
    address of the machine): unless the operator chose otherwise, the demo's session cookie goes
    without the Secure flag, and the demo says so. HttpOnly and SameSite=Strict stay."""
    if "session_cookie_secure" not in get_settings().model_fields_set:  # neither environment nor .env
        os.environ["SAFETYNET_SESSION_COOKIE_SECURE"] = "false"
        get_settings.cache_clear()
        console.print("demo: plain http, so the session cookie is sent without the Secure flag "
                      "(SAFETYNET_SESSION_COOKIE_SECURE=false); real use belongs behind HTTPS")


def _demo_feeds_and_warnings(engine, feeds: Path, lake: Path, start_month: str, months: int) -> None:  # noqa: ANN001
    """Load the demo's department feeds (files already loaded are unchanged) and run the monthly
    monitoring for every month not yet monitored with the catalogue in use, so the warnings pages
    have something to show."""
    from sqlalchemy import select

    from safetynet.feeds import service as feeds_service
    from safetynet.monitoring.catalogue import load_catalogue
    from safetynet.monitoring.service import run_month
    from safetynet.monitoring.store import monitor_runs
    from safetynet.synth.model import month_labels

    with console.status("loading the department feeds…") as status:
        # rows without a usable id number wait in quarantine for `safetynet linkage run`
        reports = feeds_service.ingest(
            engine, paths=[feeds], lake_dir=lake, actor="demo",
            progress=lambda name, done, total: status.update(f"loading feeds {done}/{total} {name}…"))
    outcome = [r.status for r in reports]
    console.print(f"department feeds: {outcome.count('loaded')} files loaded, "
                  f"{outcome.count('unchanged')} unchanged (delivered before, or the same content again), "
                  f"{outcome.count('rejected')} rejected")
    catalogue = load_catalogue()
    with engine.connect() as conn:
        done = set(conn.execute(select(monitor_runs.c.month).where(
            monitor_runs.c.status == "finished",
            monitor_runs.c.catalogue_digest == catalogue.digest())).scalars())
    with console.status("monitoring…") as status:
        for month in month_labels(start_month, months):  # the months the generated feeds cover
            if month in done:
                continue
            status.update(f"monitoring {month}…")
            r = run_month(engine, month=month, lake_dir=lake, actor="demo", catalogue=catalogue)
            console.print(f"monitor {month}: {r['warnings']:,} warnings ({r['seconds']:.1f} s)")


def _demo_closed_loop(engine, start_month: str, months: int) -> None:  # noqa: ANN001
    """Each demo month's warnings dispatched as tasks a few days after the month ends, synthetic field
    work on them, and the overdue sweep two weeks later (the latest month: half done, not swept), so
    the task pages and the dashboard's closed-loop figures show a year's history. Months already
    dispatched are skipped (dispatch creates nothing for a warning with tasks)."""
    from safetynet.casework import service as casework_service
    from safetynet.synth.fieldwork import simulate_month
    from safetynet.synth.model import month_labels
    from safetynet.workdays.model import PLATFORM_TZ

    labels = month_labels(start_month, months)
    with console.status("closed loop: dispatching tasks and simulating the field work…") as status:
        for i, month in enumerate(labels):
            nxt = month_labels(month, 2)[1]
            at = dt.datetime.fromisoformat(f"{nxt}-05T09:00:00").replace(tzinfo=PLATFORM_TZ)
            status.update(f"closed loop {month}: dispatching…")
            out = casework_service.dispatch_month(engine, month=month, now=at)
            if not out["tasks"]:
                continue
            status.update(f"closed loop {month}: field work on {out['tasks']:,} tasks…")
            last = i == len(labels) - 1
            work = simulate_month(engine, month=month, dispatched_at=at, last=last)
            # the latest month is in progress: its untouched tasks stay in their workers' inboxes
            swept = {"escalated": 0} if last else casework_service.sweep_overdue(
                engine, now=at + dt.timedelta(days=14))
            console.print(f"tasks {month}: {out['tasks']:,} created, {work['closed']:,} closed, "
                          f"{swept['escalated']:,} escalated when overdue")


def demo(
    persons: int = typer.Option(20_000, help="Persons in the generated demo province"),
    months: int = typer.Option(12, help="Months of department feeds"),
    seed: int = typer.Option(1, help="Random seed (same seed → same province)"),
    start_month: str = typer.Option("2025-01", help="First month of feeds"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the data, do not start the server"),
    host: str = typer.Option(None), port: int = typer.Option(None),
) -> None:
    """Generate a demo province (if not already there), import it and start the platform."""
    from safetynet.bootstrap import init_database
    from safetynet.regions import service as regions_service
    from safetynet.registry import service as registry_service
    from safetynet.standards import service as standards_service
    from safetynet.synth.service import generate

    _plain_http_cookie()
    settings = get_settings()
    out = settings.data_dir / "demo"
    params = {"persons": persons, "months": months, "seed": seed, "start_month": start_month}
    stamp = out / "params.json"
    engine = get_engine()
    with console.status("preparing database…"):
        init_database(engine)
        regions_service.seed_demo_province(engine, province=settings.demo_province, seed=0)
    if not stamp.exists() or json.loads(stamp.read_text()) != params:
        t = time.perf_counter()
        with console.status(f"generating a demo province of {persons:,} persons…"):
            generate(persons=persons, months=months, seed=seed, out=out, start_month=start_month,
                     province=settings.demo_province)
        stamp.write_text(json.dumps(params))
        console.print(f"generated {out} in {time.perf_counter() - t:.1f}s")
    # The generated register is the province as it stood when the feeds begin: imported as of that
    # day, every month's monitoring sees the register's people.
    first_day = dt.date.fromisoformat(f"{start_month}-01")
    with console.status("importing the register…") as status:
        report = registry_service.import_register(
            engine, directory=Path(out / "registry"), actor="demo", as_of=first_day,
            progress=lambda msg: status.update(f"importing the register: {msg}…"),
        )
    console.print(f"register import: {report.status} "
                  f"({report.counts.get('persons', {})} persons)")
    standards = standards_service.import_standards(engine, path=out / "standards" / "standards.csv",
                                                   actor="demo")
    console.print(f"local standards: {standards.new} new, {standards.unchanged} unchanged")
    _demo_feeds_and_warnings(engine, out / "feeds", settings.data_dir / "lake", start_month, months)
    _demo_users(engine, settings.demo_province)
    # after the users: a grid with a demo grid worker gets its field checks in the grid worker's queue
    _demo_closed_loop(engine, start_month, months)
    if not no_serve:
        serve(host=host, port=port, workers=1, access_log=True)
