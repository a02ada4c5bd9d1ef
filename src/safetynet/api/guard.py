"""Cross-site request guard and security headers, for every response the web platform gives.

Cross-site requests: the session is a cookie, so a page on another site could make the browser
send a state-changing request with it (a cross-origin `text/plain` POST marked a caseworker's
notifications read; a foreign-Origin JSON POST recorded assistance). SameSite=Strict was the
only guard. Now every request with a method that changes state (anything but GET, HEAD, OPTIONS)
is refused with 403 `cross_site_request` when the browser says it comes from elsewhere:
- `Sec-Fetch-Site: cross-site`, or
- an `Origin` (or, without one, a `Referer`) that is not this server's own origin nor one listed
  in `Settings.allowed_origins` (a deployment behind a proxy that rewrites the Host).
Browsers send `Origin` with every cross-origin POST, so a request carrying none of these headers
is not from another site's page: it is a program (the CLI's HTTP clients, curl, tests) and passes.

Headers, set once here rather than per route:
- a Content-Security-Policy that lets the web UI load only its own scripts (no inline script, no
  other origin), no framing (also X-Frame-Options DENY), no plugins;
- X-Content-Type-Options nosniff, Referrer-Policy same-origin, a Permissions-Policy off for
  camera, microphone and location (photos are chosen through a file input);
- `Cache-Control: no-store` on every API answer: they carry personal data (JSON, Excel, files),
  which must not stay in a shared computer's browser cache;
- Strict-Transport-Security when the request came over HTTPS.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/api/"
DOCS_PATHS = ("/api/v1/docs",)

# The web UI: its own scripts only; Element Plus sets style attributes, so inline styles stay
# allowed; ECharts draws on canvas and exports as data: images.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
           "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# FastAPI's Swagger page loads its script and style from a CDN and runs one inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; object-src 'none'; frame-ancestors 'none'")

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")
_NO_STORE = (b"cache-control", b"no-store")

_REFUSAL = json.dumps({
    "code": "cross_site_request",
    "message": "a request that changes data must come from this platform's own pages; "
               "this one came from another site",
    "message_zh": "拒绝来自其他网站的操作请求，请在本平台页面内操作",
    "field": None,
}, ensure_ascii=False).encode()


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(scope: Scope, headers: Headers) -> str:
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("localhost", 80))
    return f"{scope.get('scheme', 'http')}://{host}".lower()


def is_cross_site(scope: Scope, headers: Headers, allowed: Iterable[str] = ()) -> bool:
    """Whether a state-changing request comes from another site's page (see the module docstring)."""
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    claimed = headers.get("origin")
    if claimed is None:
        referer = headers.get("referer")
        if referer is None:
            return False  # not sent by a browser page
        claimed = _origin_of(referer) or "null"
    claimed = claimed.lower()
    return claimed != own_origin(scope, headers) and claimed not in {a.lower().rstrip("/") for a in allowed}


class SecurityMiddleware:
    """Pure ASGI (no per-request task or body copy, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, allowed_origins: Callable[[], Iterable[str]] = tuple) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] not in SAFE_METHODS and is_cross_site(scope, headers, self.allowed_origins()):
            await _refuse(send)
            return
        path: str = scope["path"]
        extra = [*_COMMON, (b"content-security-policy",
                            (DOCS_CSP if path.startswith(DOCS_PATHS) else APP_CSP).encode())]
        if scope.get("scheme") == "https":
            extra.append(_HSTS)
        no_store = path.startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", [])
                if no_store:
                    raw = [(k, v) for k, v in raw if k != b"cache-control"] + [_NO_STORE]
                message["headers"] = [*raw, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Callable[[Message], Awaitable[None]]) -> None:
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(_REFUSAL)).encode()),
        *_COMMON, (b"content-security-policy", APP_CSP.encode()), _NO_STORE]})
    await send({"type": "http.response.body", "body": _REFUSAL})
