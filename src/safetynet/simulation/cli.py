"""`safetynet simulate --month 2025-07 --dibao-standard +7% [--region 3704] [--keep-linked]
[--excel out.xlsx]`
(thin; the lead registers `simulate_cli` in cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def simulate_cli(
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    dibao_standard: str = typer.Option(..., "--dibao-standard",
                                       help="change of the dibao standard: +7%, -3%, +50 (yuan), =1000"),
    region: str | None = typer.Option(None, "--region", help="only households under this code (e.g. 3704)"),
    excel: Path | None = typer.Option(None, "--excel", help="also write the tables to this .xlsx"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    keep_linked: bool = typer.Option(False, "--keep-linked",
                                     help="keep the standards linked to dibao (e.g. the extremely-poor basic "
                                          "standard) unchanged instead of moving them with it"),
) -> None:
    """Policy simulation: households newly in / out of each tier and the cost change, by county."""
    from rich.console import Console
    from rich.table import Table

    from safetynet.config import get_settings
    from safetynet.db import get_engine
    from safetynet.simulation import service
    from safetynet.simulation.model import SimulationInputError, check_month, check_region, parse_change

    try:
        check_month(month)
        change = parse_change(dibao_standard)
        region = check_region(region)
    except SimulationInputError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    result = service.simulate(get_engine(), month=month, dibao_change=change, region=region,
                              lake_dir=get_settings().data_dir / "lake", keep_linked=keep_linked)
    if excel is not None:
        service.to_excel(result, excel)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    console = Console()
    table = Table(title=f"政策模拟 {result.month}：{change.describe()}"
                        f"{'（' + region + '）' if region else ''}"
                        f"{'，联动标准不变' if keep_linked else '，联动标准随低保标准调整'}")
    for col in ("县（市、区）", "户数", "低保 现行→调整", "新增低保", "退出低保", "特困 新增/退出",
                "边缘 新增/退出", "月支出变化（元）", "年支出变化（元）"):
        table.add_column(col, justify="left" if col.startswith("县") else "right")
    for s in [*result.counties, result.total]:
        table.add_row(f"{s.code} {s.name}".strip(), f"{s.households:,}",
                      f"{s.baseline['dibao']:,}→{s.reform['dibao']:,}", f"{s.newly['dibao']:,}",
                      f"{s.left['dibao']:,}", f"{s.newly['extremely_poor']}/{s.left['extremely_poor']}",
                      f"{s.newly['dibao_edge']}/{s.left['dibao_edge']}", _yuan(s.monthly_change_fen),
                      _yuan(s.annual_change_fen), end_section=s is result.counties[-1] if result.counties
                      else False)
    console.print(table)
    t = result.total
    console.print(f"月支出 {_yuan(t.monthly_baseline_fen)} → {_yuan(t.monthly_reform_fen)} 元；"
                  f"年变化 {_yuan(t.annual_change_fen)} 元；{result.seconds:.1f} s")
    if excel is not None:
        console.print(f"Excel: {excel}")
