"""How the app answers on the wire: large bodies compressed for clients that accept gzip,
small ones sent as they are (compressing them costs more CPU than it saves); connections
without Nagle's algorithm, and `safetynet serve` with several workers."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from safetynet.api import server
from safetynet.api.app import GZIP_MINIMUM_BYTES


def test_large_answers_are_gzipped_and_small_ones_are_not(client_as):
    client = client_as.anonymous()
    large = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert large.status_code == 200
    assert large.headers["content-encoding"] == "gzip"
    # the client decodes the body: what came over the wire is the shorter, compressed one
    assert int(large.headers["content-length"]) < len(large.content)
    assert "paths" in large.json()
    small = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert len(small.content) < GZIP_MINIMUM_BYTES and "content-encoding" not in small.headers
    plain = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and json.loads(plain.content) == large.json()



def _run(coroutine):  # noqa: ANN001, ANN202
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_accepted_connections_have_nagle_off():
    """uvicorn's own multi-worker socket leaves Nagle's algorithm on (every kept-alive request
    after the first then waits ~40 ms for the client's delayed ACK); the socket bound by
    `safetynet.api.server` is TCP, so asyncio turns it off on each connection it accepts."""
    sock = server.listening_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    seen: list[int] = []

    class Report(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        listener = await asyncio.get_running_loop().create_server(Report, sock=sock)
        async with listener:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    _run(accept_one())
    assert seen and seen[0] != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # starts two worker processes (seconds)
def test_serve_with_several_workers_answers_on_kept_alive_connections(tmp_path):
    port = _free_port()
    env = {**os.environ, "SAFETYNET_DATA_DIR": str(tmp_path / "data")}
    env.pop("SAFETYNET_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "safetynet.cli.main", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", "2", "--no-access-log"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        conn = None
        for _ in range(240):
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/health")
                break
            except OSError:
                conn.close()
                time.sleep(0.25)
        else:
            raise AssertionError(f"`safetynet serve --workers 2` did not answer:\n{log.read_text()[-3000:]}")
        answers = []
        for _ in range(3):  # one connection, kept alive between requests
            r = conn.getresponse()
            answers.append((r.status, json.loads(r.read())["status"]))
            conn.request("GET", "/api/v1/health")
        conn.getresponse().read()
        conn.close()
        assert answers == [(200, "ok")] * 3
        assert "Started parent process" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_app_bounds_the_requests_a_process_works_on_at_once(engine, settings_env, monkeypatch):
    """Sync routes run in anyio's thread pool; the app's start-up bounds it to
    `Settings.server_threads` (default 6) instead of anyio's 40."""
    from anyio import to_thread

    from safetynet.api.app import create_app
    from safetynet.config import Settings, get_settings

    async def tokens_while_running() -> tuple[float, float]:
        before = to_thread.current_default_thread_limiter().total_tokens
        app = create_app(engine)
        async with app.router.lifespan_context(app):
            return before, to_thread.current_default_thread_limiter().total_tokens

    assert _run(tokens_while_running()) == (40, 6)
    monkeypatch.setenv("SAFETYNET_SERVER_THREADS", "3")
    get_settings.cache_clear()
    assert _run(tokens_while_running()) == (40, 3)
    monkeypatch.setenv("SAFETYNET_SERVER_THREADS", "0")
    with pytest.raises(ValueError, match="server_threads"):
        Settings()


def test_serve_on_a_port_in_use_says_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "SAFETYNET_DATA_DIR": str(tmp_path / "data")}
        env.pop("SAFETYNET_DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-m", "safetynet.cli.main", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stdout and "--port" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
