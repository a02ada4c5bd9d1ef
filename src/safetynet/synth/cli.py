"""`safetynet synth`: generate a synthetic province (register, standards, feeds, truth)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from safetynet.synth import model as m

console = Console()


def synth(
    persons: int = typer.Option(100_000, "--persons", help="Registered persons to generate"),
    months: int = typer.Option(12, "--months", help="Months of department feeds"),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed and options → same files)"),
    out: Path = typer.Option(..., "--out", help="Output directory"),
    start_month: str = typer.Option("2025-01", "--start-month", help="First month, YYYY-MM"),
    fmt: str = typer.Option("mixed", "--format",
                            help="mixed (CSV/GBK/xlsx/Parquet as departments deliver), csv or "
                                 "parquet (one format for every feed)"),
    province: str = typer.Option("37", "--province", help="2-digit province code of the demo tree"),
) -> None:
    """Generate a synthetic province: register, local standards, monthly feeds and truth."""
    from safetynet.synth.service import SynthParameterError, generate

    if fmt not in m.FORMAT_CHOICES:
        console.print(f"[red]--format must be one of {', '.join(m.FORMAT_CHOICES)}[/red]")
        raise typer.Exit(2)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("people", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=f"generating: {what}", completed=done, total=total)

        try:
            summary = generate(persons=persons, months=months, seed=seed, out=out,
                               start_month=start_month, fmt=fmt, province=province,
                               progress=progress)
        except SynthParameterError as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(2) from None

    console.print(
        f"[bold]{summary.persons:,}[/bold] persons in [bold]{summary.households:,}[/bold] "
        f"households (+{summary.outside_persons:,} outside the register), "
        f"{summary.months} months from {summary.start_month}, {summary.seconds:.1f}s → {out}")
    tiers = Table("tier", "persons", "share", title="register by tier")
    for tier, count in summary.tier_counts.items():
        tiers.add_row(tier, f"{count:,}", f"{count / summary.persons:.1%}")
    console.print(tiers)
    feeds = Table("feed", "rows", title=f"feeds ({summary.files} files; "
                                         f"{summary.bytes / 1e6:,.1f} MB on disk in all)")
    for feed, rows in summary.feed_rows.items():
        feeds.add_row(feed, f"{rows:,}")
    feeds.add_row("[bold]total[/bold]", f"[bold]{summary.total_feed_rows:,}[/bold]")
    console.print(feeds)
    console.print("planted events: " + ", ".join(f"{k} {v:,}" for k, v in
                                                  sorted(summary.events.items()))
                  + f"; damaged id numbers: {summary.bad_ids:,}")
