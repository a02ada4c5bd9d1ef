"""API latency of household search and household detail on PostgreSQL under concurrency.

    uv run python benchmarks/bench_api_latency.py --persons 200000 [--clients 20] [--requests 4000]
        [--workers 1] [--pg URL] [--keep | --database URL]

`--keep` leaves the loaded database in place (its URL is printed) and `--database URL` runs
against such a database again without re-importing.

Imports a synthetic register of N persons into a fresh PostgreSQL database (the register is
generated once per size and cached under /tmp, shared with bench_registry_import.py), starts
the real app under uvicorn in a subprocess, signs in `--clients` httpx clients (a province
administrator: the widest scope, the slowest case; and a township caseworker), and has them
send requests concurrently: household detail, and search by name prefix, full name, id last 4,
tier within a county, and an empty search. Prints p50/p95/p99 per kind and overall, for
docs/benchmarks.md. Goal (issue 6): p95 <= 100 ms for detail and search at 1M persons and 20
concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import psutil
from _databases import DEFAULT_PG, postgres_url
from sqlalchemy import func, select, text

from safetynet.bootstrap import init_database
from safetynet.db import make_engine
from safetynet.regions import service as regions_service
from safetynet.registry import service as registry_service
from safetynet.registry import store
from safetynet.synth.service import generate

PASSWORD = "Bench@2026pw"
TIERS = ["dibao", "extremely_poor", "dibao_edge"]


def _register(persons: int) -> Path:
    out = Path(f"/tmp/safetynet-bench-register-{persons}")
    if not (out / "registry" / "persons.csv").exists():
        t = time.perf_counter()
        generate(persons=persons, months=1, seed=42, out=out)
        print(f"generated register of {persons:,} persons in {time.perf_counter() - t:.1f}s", flush=True)
    return out / "registry"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(url: str, directory: Path) -> None:
    """Schema, regions, register (then ANALYZE)."""
    engine = make_engine(url)
    init_database(engine)
    regions_service.seed_demo_province(engine, province="37", seed=0)
    t = time.perf_counter()
    report = registry_service.import_register(engine, directory=directory, as_of=dt.date(2025, 1, 1),
                                              partial=True)
    print(f"imported {report.counts['rows']['persons']:,} persons in {time.perf_counter() - t:.1f}s",
          flush=True)
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
    engine.dispose()


def _prepare(url: str) -> dict:
    """Users (once) and samples to query with."""
    from safetynet.auth import service as auth_service
    from safetynet.auth.store import users

    engine = make_engine(url)
    h, p, m = store.households, store.persons, store.memberships
    rng = random.Random(7)
    with engine.connect() as c:
        household_nos = c.execute(select(h.c.household_no).order_by(func.random())
                                  .limit(2000)).scalars().all()
        people = c.execute(select(p.c.name, p.c.id_number).order_by(func.random()).limit(2000)).all()
        busiest = c.execute(select(func.substr(h.c.region_code, 1, 9).label("t"), func.count())
                            .group_by("t").order_by(func.count().desc()).limit(1)).first()
        counties = c.execute(select(func.substr(h.c.region_code, 1, 6)).distinct()).scalars().all()
        township_households = c.execute(
            select(h.c.household_no).where(h.c.region_code.like(busiest[0] + "%"))
            .order_by(func.random()).limit(500)).scalars().all()
        live = c.execute(select(func.count()).select_from(m).where(m.c.valid_to.is_(None))).scalar_one()
        have = set(c.execute(select(users.c.username)).scalars())
    if "bench.province" not in have:
        auth_service.create_user(engine, username="bench.province", password=PASSWORD,
                                 role="province_admin", region_code="370000000000")
    if "bench.township" not in have:
        auth_service.create_user(engine, username="bench.township", password=PASSWORD,
                                 role="township_caseworker", region_code=busiest[0] + "000")
    engine.dispose()
    return {"households": household_nos, "people": people, "counties": counties, "rng": rng,
            "township_households": township_households, "township": busiest[0], "persons": live}


def _requests(samples: dict, n: int) -> list[tuple[str, str, str, dict]]:
    """(user, kind, path, params) in a random mix: half detail, half search."""
    rng = samples["rng"]
    out = []
    for _ in range(n):
        roll = rng.random()
        name, id_number = rng.choice(samples["people"])
        if roll < 0.40:
            out.append(("province", "detail", f"/api/v1/households/{rng.choice(samples['households'])}", {}))
        elif roll < 0.50:
            out.append(("township", "detail (township user)",
                        f"/api/v1/households/{rng.choice(samples['township_households'])}", {}))
        elif roll < 0.62:
            out.append(("province", "search name prefix", "/api/v1/households", {"name": name[:2]}))
        elif roll < 0.72:
            out.append(("province", "search full name", "/api/v1/households", {"name": name}))
        elif roll < 0.82:
            out.append(("province", "search id last 4", "/api/v1/households", {"id_number": id_number[-4:]}))
        elif roll < 0.88:
            out.append(("province", "search full id", "/api/v1/households", {"id_number": id_number}))
        elif roll < 0.94:
            out.append(("province", "search tier in county", "/api/v1/households",
                        {"tier": rng.choice(TIERS), "region": rng.choice(samples["counties"])}))
        else:
            out.append(("township", "search township (no filter)", "/api/v1/households",
                        {"page": rng.randint(1, 5)}))
    return out


async def _run(base: str, work: list, clients: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    retries: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for w in work:
        queue.put_nowait(w)

    async def client_loop(i: int) -> None:
        sessions = {}
        for user in ("province", "township"):
            c = httpx.AsyncClient(base_url=base, timeout=60)
            r = await c.post("/api/v1/auth/login", json={"username": f"bench.{user}", "password": PASSWORD})
            r.raise_for_status()
            sessions[user] = c
        try:
            while True:
                try:
                    user, kind, path, params = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                try:
                    r = await sessions[user].get(path, params=params)
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # a kept-alive connection the server closed meanwhile: retried, and counted
                    retries.append(kind)
                    t = time.perf_counter()
                    r = await sessions[user].get(path, params=params)
                elapsed = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:200]}")
                timings.setdefault(kind, []).append(elapsed)
        finally:
            for c in sessions.values():
                await c.aclose()

    await asyncio.gather(*(client_loop(i) for i in range(clients)))
    if retries:
        print(f"({len(retries)} request(s) retried after the server closed a kept-alive connection)")
    return timings


def _pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def bench(url: str, clients: int, n_requests: int, workers: int) -> None:
    samples = _prepare(url)
    port = _free_port()
    env = {**os.environ, "SAFETYNET_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "safetynet.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
         "--timeout-keep-alive", "300"],
        env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("server did not start")
        asyncio.run(_run(base, _requests(samples, 200), clients))  # warm-up: caches, pools
        t = time.perf_counter()
        timings = asyncio.run(_run(base, _requests(samples, n_requests), clients))
        wall = time.perf_counter() - t
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{samples['persons']:,} persons, PostgreSQL, {clients} concurrent clients, uvicorn "
          f"workers={workers}, {n_requests} requests in {wall:.1f}s ({n_requests / wall:.0f} req/s); "
          f"{platform.node()} {psutil.cpu_count()} cores, {dt.date.today()}")
    print("| request | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    groups = dict(sorted(timings.items()))
    groups["ALL detail"] = [v for k, vs in timings.items() if k.startswith("detail") for v in vs]
    groups["ALL search"] = [v for k, vs in timings.items() if k.startswith("search") for v in vs]
    for kind, values in groups.items():
        print(f"| {kind} | {len(values)} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} | "
              f"{_pct(values, 99):.1f} | {max(values):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--keep", action="store_true", help="keep the loaded database and print its URL")
    ap.add_argument("--database", help="a database loaded by an earlier --keep run (no import)")
    args = ap.parse_args()
    if args.database:
        bench(args.database, args.clients, args.requests, args.workers)
        return
    directory = _register(args.persons)
    if args.keep:
        name = f"safetynet_bench_api_{args.persons}"
        admin = make_engine(args.pg)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = args.pg.rsplit("/", 1)[0] + "/" + name
        _load(url, directory)
        print(f"kept database: --database {url}", flush=True)
        bench(url, args.clients, args.requests, args.workers)
        return
    with postgres_url(args.pg) as url:
        _load(url, directory)
        bench(url, args.clients, args.requests, args.workers)


if __name__ == "__main__":
    main()
