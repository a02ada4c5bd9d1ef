"""Batch assessment: many households in one OpenFisca simulation.

    uv run python benchmarks/bench_assess_many.py --households 3000000

Inputs are random but shaped like the monitored population (1–4 members, ages, wages,
urban/rural, a local dibao standard per household as an input variable), already in
memory: the figure is the rules engine's time "once inputs are loaded" (issue 3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

import numpy as np
import psutil
from _measure import peak_rss_gb

from safetynet.rules import service


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=3_000_000)
    args = ap.parse_args()
    n = args.households
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 5, n)
    m = int(sizes.sum())
    persons = {"household": np.repeat(np.arange(n), sizes),
               "age": rng.integers(0, 95, m),
               "income_wage": rng.choice([0.0, 300.0, 800.0, 1500.0, 3000.0], m)}
    registration = rng.choice(["urban", "rural"], n)
    households = {"registration": registration,
                  "dibao_standard": np.where(registration == "urban", 941.0, 824.0)}
    service.assess_many(as_of=dt.date(2025, 7, 1), households={k: v[:10] for k, v in households.items()},
                        persons={"household": np.repeat(np.arange(10), sizes[:10]),
                                 "age": persons["age"][: sizes[:10].sum()],
                                 "income_wage": persons["income_wage"][: sizes[:10].sum()]})  # warm up
    t = time.perf_counter()
    out = service.assess_many(as_of=dt.date(2025, 7, 1), households=households, persons=persons)
    seconds = time.perf_counter() - t
    tiers = Counter(out["households"]["household_tier"])
    print(f"| batch assessment | {n:,} households, {m:,} persons, one simulation | {seconds:.1f} s | "
          f"peak RSS {peak_rss_gb():.1f} GB | {psutil.cpu_count()} cores | {dt.date.today()} | "
          f"tiers {dict(tiers.most_common())} |")


if __name__ == "__main__":
    main()
