"""API latency of household search and household detail on PostgreSQL under concurrency.

    uv run python benchmarks/bench_api_latency.py --persons 200000 [--clients 20] [--requests 4000]
        [--workers 2] [--only detail|search...] [--pg URL] [--keep | --database URL]

`--keep` leaves the loaded database in place (its URL is printed) and `--database URL` runs
against such a database again without re-importing.

Imports a synthetic register of N persons into a fresh PostgreSQL database (the register is
generated once per size and cached under /tmp, shared with bench_registry_import.py), starts
the platform as deployed (`safetynet serve --workers N`) in a subprocess, signs in a province
administrator (the widest scope, the slowest case) and a township caseworker once per client,
and has `--clients` closed-loop clients send requests concurrently: household detail, and
search by name prefix, full name, id last 4, full id, tier within a county, and an empty
search. The clients share one asyncio process and speak HTTP/1.1 over kept-alive sockets
directly: server, PostgreSQL and the load generator share the machine's cores, and an httpx
client per request costs about as much CPU as the server's own work.

Prints p50/p95/p99 per kind and overall, for docs/benchmarks.md, and the CPU each party spent
per request: the server's processes, PostgreSQL's backends (and the time its statements
ran), and the load generator itself. Goal (issue 6): p95 <= 100 ms for detail and search at
1M persons and 20 concurrent clients.
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
from urllib.parse import urlencode

import httpx2 as httpx
import psutil
import pyotp
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
    """Schema, regions, register (then VACUUM ANALYZE)."""
    engine = make_engine(url)
    init_database(engine)
    regions_service.seed_demo_province(engine, province="37", seed=0)
    t = time.perf_counter()
    report = registry_service.import_register(engine, directory=directory, as_of=dt.date(2025, 1, 1),
                                              partial=True)
    print(f"imported {report.counts['rows']['persons']:,} persons in {time.perf_counter() - t:.1f}s",
          flush=True)
    # VACUUM too: a production server's autovacuum would have set the visibility map after an
    # import this size (index-only scans depend on it); this machine's PostgreSQL runs with
    # autovacuum off, so the benchmark does it
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
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
    # each run enrols the administrator's second factor afresh (its seed is not kept between runs)
    auth_service.totp_reset(engine, username="bench.province")
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


class _Connection:
    """One kept-alive HTTP/1.1 connection speaking just enough of the protocol for GET
    requests with a cookie: the load generator shares the 2 cores with the server and
    PostgreSQL, so it must cost little CPU per request (an httpx client costs about as much
    as the server's own work). Bodies are read by Content-Length and not decoded."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        try:
            return await self._get(target)
        except (asyncio.IncompleteReadError, ConnectionError):
            # the server closed a connection left idle past its keep-alive timeout (5 s)
            await self.close()
            return await self._get(target)

    async def _get(self, target: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n"
                          "Accept-Encoding: gzip\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length is None:
            raise RuntimeError(f"{target}: response without Content-Length: {head[:300]!r}")
        body = await self.reader.readexactly(length)
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


def _cookies(base: str, clients: int) -> dict[str, list[str]]:
    """A session cookie per client and user (sign-in is not part of the measurement). The province
    administrator must use a second factor and each code signs in once: its clients share one session,
    in which the second factor is enrolled (a fresh benchmark database) before the run."""
    out: dict[str, list[str]] = {"province": [], "township": []}
    with httpx.Client(base_url=base, timeout=60) as c:
        for user in out:
            for _ in range(clients if user == "township" else 1):
                r = c.post("/api/v1/auth/login", json={"username": f"bench.{user}", "password": PASSWORD})
                r.raise_for_status()
                cookie = f"safetynet_session={r.cookies['safetynet_session']}"
                if r.json()["user"].get("totp_enrolment_required"):
                    # the server's cookie is Secure: over plain http it goes back by hand
                    sent = {"Cookie": cookie}
                    secret = c.post("/api/v1/auth/totp/setup", headers=sent).json()["secret"]
                    c.post("/api/v1/auth/totp/confirm", headers=sent,
                           json={"code": pyotp.TOTP(secret).now()}).raise_for_status()
                out[user].append(cookie)
                c.cookies.clear()
        out["province"] *= clients
    return out


async def _run(base: str, cookies: dict[str, list[str]], work: list, clients: int) -> dict[str, list[float]]:
    """`clients` closed-loop clients: each sends its next request when the previous answered."""
    host, port = base.removeprefix("http://").split(":")
    timings: dict[str, list[float]] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for w in work:
        queue.put_nowait(w)

    async def client_loop(i: int) -> None:
        connections = {user: _Connection(host, int(port), cookies[user][i]) for user in cookies}
        try:
            while True:
                try:
                    user, kind, path, params = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                target = f"{path}?{urlencode(params)}" if params else path
                t = time.perf_counter()
                status, body = await connections[user].get(target)
                elapsed = (time.perf_counter() - t) * 1000
                if status != 200:
                    raise RuntimeError(f"{target}: {status} {body[:200]!r}")
                timings.setdefault(kind, []).append(elapsed)
        finally:
            for c in connections.values():
                await c.close()

    await asyncio.gather(*(client_loop(i) for i in range(clients)))
    return timings


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in processes:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


def _server_processes(server: subprocess.Popen) -> list[psutil.Process]:
    parent = psutil.Process(server.pid)
    return [parent, *parent.children(recursive=True)]


def _postgres_backends(url: str) -> list[psutil.Process]:
    """The PostgreSQL server processes serving the benchmark's database (the server's pool)."""
    database = url.rsplit("/", 1)[1]
    return [p for p in psutil.process_iter(["cmdline"])
            if (cmd := " ".join(p.info["cmdline"] or [])).startswith("postgres: ") and f" {database} " in cmd]


def _postgres_activity(url: str) -> tuple[float, int]:
    """(seconds spent executing statements, sessions opened) in the benchmark's database so far.
    PostgreSQL's own counters: backends that came and went during the run are included,
    which per-process CPU times would miss. Backends publish them within a second of idling."""
    engine = make_engine(url)
    with engine.connect() as c:
        active_ms, opened = c.execute(text("SELECT active_time, sessions FROM pg_stat_database "
                                           "WHERE datname = current_database()")).one()
    engine.dispose()
    return active_ms / 1000, opened


def _pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def bench(url: str, clients: int, n_requests: int, workers: int, only: str | None = None) -> None:
    samples = _prepare(url)
    port = _free_port()
    env = {**os.environ, "SAFETYNET_DATABASE_URL": url}
    # the platform's own server command, as deployed (see safetynet.api.server)
    server = subprocess.Popen(
        [sys.executable, "-m", "safetynet.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL)
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
        cookies = _cookies(base, clients)
        asyncio.run(_run(base, cookies, _requests(samples, 200), clients))  # warm-up: caches, pools
        servers = _server_processes(server)
        time.sleep(1.5)
        server_cpu, pg_before = _cpu_seconds(servers), _postgres_activity(url)
        backends = _postgres_backends(url)
        backend_cpu = _cpu_seconds(backends)
        load_before = os.getloadavg()
        t, cpu = time.perf_counter(), time.process_time()
        work = [w for w in _requests(samples, n_requests) if only is None or w[1].startswith(only)]
        n_requests = len(work)
        timings = asyncio.run(_run(base, cookies, work, clients))
        wall, generator_cpu = time.perf_counter() - t, time.process_time() - cpu
        server_after = _cpu_seconds(servers)
        per_process = sorted(server_after[pid] - server_cpu.get(pid, 0.0) for pid in server_after)
        server_cpu = sum(server_after.values()) - sum(server_cpu.values())
        # backends opened during the run count from zero, ones closed during it are missed:
        # the run reports how many were opened
        backend_cpu = sum(v - backend_cpu.get(pid, 0.0)
                          for pid, v in _cpu_seconds(_postgres_backends(url)).items())
        time.sleep(1.5)
        pg_after = _postgres_activity(url)
        pg_active, pg_sessions = pg_after[0] - pg_before[0], pg_after[1] - pg_before[1]
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{samples['persons']:,} persons, PostgreSQL, {clients} concurrent clients, uvicorn "
          f"workers={workers}, {n_requests} requests in {wall:.1f}s ({n_requests / wall:.0f} req/s); "
          f"{platform.node()} {psutil.cpu_count()} cores, {dt.date.today()}")
    per = 1000 / n_requests
    print(f"CPU per request: server {server_cpu * per:.2f} ms (all workers), load generator "
          f"{generator_cpu * per:.2f} ms "
          f"({generator_cpu / wall:.0%} of one core); load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    print("server CPU per process (s): " + ", ".join(f"{v:.1f}" for v in per_process))
    print(f"PostgreSQL: {backend_cpu * per:.2f} ms CPU per request in its backends, "
          f"{pg_active * per:.2f} ms executing statements (wall), {pg_sessions} connections opened "
          "during the run")
    print("| request | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    groups = dict(sorted(timings.items()))
    groups["ALL detail"] = [v for k, vs in timings.items() if k.startswith("detail") for v in vs]
    groups["ALL search"] = [v for k, vs in timings.items() if k.startswith("search") for v in vs]
    for kind, values in groups.items():
        if not values:
            continue
        print(f"| {kind} | {len(values)} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} | "
              f"{_pct(values, 99):.1f} | {max(values):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--keep", action="store_true", help="keep the loaded database and print its URL")
    ap.add_argument("--database", help="a database loaded by an earlier --keep run (no import)")
    ap.add_argument("--only", help="only the request kinds starting with this, e.g. 'detail' or 'search'")
    args = ap.parse_args()
    if args.database:
        bench(args.database, args.clients, args.requests, args.workers, args.only)
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
        bench(url, args.clients, args.requests, args.workers, args.only)
        return
    with postgres_url(args.pg) as url:
        _load(url, directory)
        bench(url, args.clients, args.requests, args.workers, args.only)


if __name__ == "__main__":
    main()
