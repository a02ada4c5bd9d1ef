"""`safetynet facts MONTH OUT`: household facts for a month to Parquet (thin; the lead
registers `facts_cli` in cli/main.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer


def facts_cli(month: str = typer.Argument(..., help="YYYY-MM"),
              out: Path = typer.Argument(..., help="folder for household_facts_<month>.parquet and "
                                                   "person_facts_<month>.parquet")) -> None:
    """Compute household and person facts for MONTH from the register and the lake."""
    import re

    from safetynet.analytics.service import household_facts
    from safetynet.config import get_settings
    from safetynet.db import get_engine

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        typer.echo(f"not a month: {month!r}; expected YYYY-MM", err=True)
        raise typer.Exit(2)
    t = time.perf_counter()
    lake_dir = get_settings().data_dir / "lake"
    households, persons = household_facts(get_engine(), month=month, lake_dir=lake_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    h_path, p_path = out / f"household_facts_{month}.parquet", out / f"person_facts_{month}.parquet"
    pq.write_table(households, h_path)
    pq.write_table(persons, p_path)
    members = pc.sum(households.column("members")).as_py() or 0
    typer.echo(f"facts for {month}: {households.num_rows:,} households, {persons.num_rows:,} persons "
               f"({members:,} current members) in {time.perf_counter() - t:.1f} s")
    typer.echo(f"  {h_path}\n  {p_path}")
