"""`mount_spa`: how the FastAPI app serves the built web UI (no browser needed; plain ASGI calls)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from safetynet.api.spa import mount_spa


def _call(app: FastAPI, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One HTTP request through the ASGI interface."""
    out: dict = {"body": b""}
    requested = False

    async def run() -> None:
        done = asyncio.Event()

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client stays connected until the response is complete
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
                out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    done.set()

        await app(scope, receive, send)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    asyncio.run(asyncio.wait_for(run(), timeout=10))
    return out["status"], out["headers"], out["body"]


def _app(dist) -> FastAPI:  # noqa: ANN001
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict:
        return {"pong": True}

    mount_spa(app, dist=dist)
    return app


@pytest.fixture
def dist(tmp_path):  # noqa: ANN001, ANN201
    d = tmp_path / "dist"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text("<title>低收入人口动态监测平台</title><div id=app></div>", encoding="utf-8")
    (d / "assets" / "index-abc.js").write_text("console.log(1)")
    (d / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "secret.txt").write_text("outside dist")
    return d


def test_index_for_every_page_path_and_files_from_the_build(dist):
    app = _app(dist)
    index = (dist / "index.html").read_bytes()
    for path in ("/", "/dashboard", "/households/H000000001", "/persons/7", "/no/such/page"):
        status, headers, body = _call(app, path)
        assert (status, body) == (200, index), path
        assert headers["content-type"].startswith("text/html") and headers["cache-control"] == "no-cache"
    status, headers, body = _call(app, "/assets/index-abc.js")
    assert status == 200 and "javascript" in headers["content-type"] and body == b"console.log(1)"
    assert _call(app, "/favicon.ico")[2] == b"\x00\x00\x01\x00"
    assert _call(app, "/", method="HEAD")[0] == 200


def test_api_paths_are_never_answered_with_the_page(dist):
    app = _app(dist)
    assert _call(app, "/api/v1/ping")[2] == b'{"pong":true}'  # routers added before still win
    for path in ("/api/v1/no-such-route", "/api", "/api/v2/x"):
        status, headers, _ = _call(app, path)
        assert status == 404 and headers["content-type"] == "application/json", path
    status, _, _ = _call(app, "/assets/missing.js")
    assert status == 404


def test_files_outside_the_build_are_not_served(dist):
    app = _app(dist)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        status, _, body = _call(app, path)
        assert b"outside dist" not in body, path
        assert status in (200, 404), path


def test_without_a_build_the_pages_tell_the_operator_how_to_build(tmp_path):
    app = _app(tmp_path / "missing")
    status, headers, body = _call(app, "/households")
    text = body.decode()
    assert status == 503 and headers["content-type"].startswith("text/html")
    assert "低收入人口动态监测平台" in text and "npm run build" in text and "scripts/bootstrap.sh" in text
    assert _call(app, "/assets/index-abc.js")[0] == 404  # no server error for a missing build
    assert _call(app, "/api/v1/ping")[0] == 200  # the API keeps working
