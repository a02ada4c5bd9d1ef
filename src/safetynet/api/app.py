"""The web application: API under /api/v1 and the caseworker's pages.

Every /api/v1 route needs a signed-in user (an app-level dependency) except the health
check, sign-in and the OpenAPI docs; each router then asks for its capability. Errors
follow one body: {"code", "message", "message_zh", "field"}.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, StatementError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import safetynet
from safetynet.api.bounds import MAX_INT, bounded_integers
from safetynet.api.guard import SecurityMiddleware
from safetynet.api.spa import mount_spa
from safetynet.applications.api import router as applications_router
from safetynet.assessment.api import router as assessment_router
from safetynet.audit.api import router as audit_router
from safetynet.auth.api import router as auth_router
from safetynet.auth.deps import audit_denied, household_in_scope, require, require_by_method, signed_in_user
from safetynet.auth.errors import ApiError
from safetynet.casework.api import router as casework_router
from safetynet.config import get_settings
from safetynet.dashboard.api import router as dashboard_router
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.feeds.api import router as feeds_router
from safetynet.linkage.api import router as linkage_router
from safetynet.monitoring.api import router as warnings_router
from safetynet.regions.api import router as regions_router
from safetynet.registry.api import router as registry_router
from safetynet.rules.api import router as rules_router
from safetynet.simulation.api import router as simulation_router
from safetynet.standards.api import router as standards_router
from safetynet.standards.service import store_lookup
from safetynet.verification.api import router as verification_router
from safetynet.workdays.api import router as calendar_router

log = logging.getLogger(__name__)

API = "/api/v1"
# Responses smaller than this go out as they are: compressing a short JSON body costs more
# CPU than the bytes it saves on the wire.
GZIP_MINIMUM_BYTES = 1400
# zlib level 6 packs JSON and the SPA bundle nearly as tightly as 9 at a fraction of the CPU.
GZIP_LEVEL = 6
# The only /api/v1 paths answered without sign-in.
PUBLIC_PATHS = frozenset({f"{API}/health", f"{API}/auth/login", f"{API}/openapi.json", f"{API}/docs",
                          f"{API}/docs/oauth2-redirect"})

_HTTP_CODES = {401: ("not_signed_in", "请先登录"), 403: ("forbidden", "没有权限"),
               404: ("not_found", "未找到"), 405: ("invalid", "不支持该请求方法"),
               409: ("conflict", "与当前状态冲突"),
               423: ("account_locked", "账户已锁定")}


async def _signed_in_for_api(request: Request) -> None:
    """App-wide: an /api/v1 route other than the public ones needs a signed-in user (async:
    the session look-up goes to the thread pool, and is then cached for the request)."""
    path = request.url.path
    if path.startswith(API + "/") and path not in PUBLIC_PATHS:
        await signed_in_user(request)


def _allowed_origins() -> list[str]:
    return [o.strip() for o in get_settings().allowed_origins.split(",") if o.strip()]


def _error(status: int, code: str, message: str, message_zh: str, field: str | None = None,
           headers: dict[str, str] | None = None, extra: dict | None = None) -> JSONResponse:
    content = {"code": code, "message": message, "message_zh": message_zh, "field": field}
    return JSONResponse(status_code=status, headers=headers, content=(extra or {}) | content)


def _field(loc: tuple | list) -> str | None:
    """("body", "members", 0, "income") → "members[0].income"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or None


async def _audit_not_found(request: Request) -> None:
    """A signed-in user's request for something missing or outside their region leaves a trace, so
    that a scan of ids (every answer 404) shows in the audit log."""
    user = getattr(request.state, "user", None)
    if user is None:
        return
    await run_in_threadpool(audit_denied, request, user, "not_found")


def add_error_handlers(app: FastAPI) -> None:
    """Every error as the shared body `{"code", "message", "message_zh", "field"}`
    (docs/web-api.md); routers raise ApiError/NotFoundError/SafetynetError and never build
    error responses themselves."""
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status == 404:
            await _audit_not_found(request)
        return _error(exc.status, exc.code, exc.message, exc.message_zh, exc.field, exc.headers)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        await _audit_not_found(request)
        return _error(404, "not_found", str(exc), "未找到", getattr(exc, "field", None))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    @app.exception_handler(StatementError)
    async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        """A value the database cannot hold (an integer in a body beyond BIGINT: path and query
        integers are stopped earlier, api/bounds.py) is the request's fault, not the server's."""
        cause = getattr(exc, "orig", exc)
        if not isinstance(exc, DataError | OverflowError) and not isinstance(cause, OverflowError):
            return await unexpected(request, exc)
        log.info("%s %s: value out of range: %s", request.method, request.url.path, cause)
        return _error(422, "invalid", "a number in the request is out of range (whole numbers up to "
                      f"{MAX_INT})", "请求中的数值超出允许范围")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Still the one error body (JSON), never a plain-text page; the details go to the log only."""
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, "error", "the server failed on this request; it has been logged",
                      "服务器处理出错，已记录，请稍后重试")

    @app.exception_handler(SafetynetError)
    async def bad_request(_request: Request, exc: SafetynetError) -> JSONResponse:
        return _error(400, "invalid", str(exc), f"输入有误：{exc}", getattr(exc, "field", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        field = _field(first.get("loc", ()))
        message = "; ".join(f"{_field(e.get('loc', ())) or 'request'}: {e.get('msg')}" for e in errs[:10])
        return _error(422, "invalid", message, f"输入有误（{field or '请求'}）：{first.get('msg')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            d = exc.detail
            return _error(exc.status_code, d["code"], d.get("message", ""), d.get("message_zh", ""),
                          d.get("field"), exc.headers, extra=d)  # e.g. verification's `missing`
        code, zh = _HTTP_CODES.get(exc.status_code, ("invalid" if exc.status_code < 500 else "error",
                                                      "请求无效" if exc.status_code < 500 else "服务器错误"))
        return _error(exc.status_code, code, str(exc.detail), zh, None, exc.headers)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Bound the requests a process works on at once (`Settings.server_threads`): sync routes
    and dependencies run in anyio's thread pool, whose default of 40 let 20 busy requests
    contend for the GIL and the cores at once, which drew out the slowest of them."""
    to_thread.current_default_thread_limiter().total_tokens = get_settings().server_threads
    yield


def create_app(engine: Engine | None = None) -> FastAPI:
    if engine is None:
        from safetynet.db import get_engine

        engine = get_engine()
    app = FastAPI(title="safetynet 低收入人口动态监测平台", version=safetynet.__version__, lifespan=_lifespan,
                  openapi_url=f"{API}/openapi.json", docs_url=f"{API}/docs",
                  dependencies=[Depends(_signed_in_for_api), Depends(bounded_integers)])
    app.state.engine = engine
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    # outermost: a cross-site request is refused before any work, and every answer gets the headers
    app.add_middleware(SecurityMiddleware, allowed_origins=_allowed_origins)
    app.state.standards_lookup = store_lookup(engine)
    app.state.clock = lambda: dt.datetime.now(dt.UTC)  # tests replace it

    add_error_handlers(app)

    @app.get(f"{API}/health", tags=["system"])
    def health() -> dict:
        """Liveness plus a real round trip to the database."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": safetynet.__version__, "database": engine.dialect.name}

    app.include_router(auth_router, prefix=API)
    app.include_router(audit_router, prefix=API)
    # registry/api.py declares each route's capability; here sign-in only
    app.include_router(registry_router, prefix=API, dependencies=[Depends(require())])
    app.include_router(dashboard_router, prefix=API)
    app.include_router(regions_router, prefix=API)
    app.include_router(feeds_router, prefix=API)
    app.include_router(standards_router, prefix=API)
    app.include_router(rules_router, prefix=API, dependencies=[Depends(require("rules.assess"))])
    app.include_router(linkage_router, prefix=API, dependencies=[Depends(require("linkage.review"))])
    app.include_router(simulation_router, prefix=API, dependencies=[Depends(require("simulation.run"))])
    app.include_router(verification_router, prefix=API, dependencies=[
        Depends(require_by_method("verification.read", "verification.authorise")),
        Depends(household_in_scope)])
    app.include_router(warnings_router, prefix=API)  # each route declares warnings.read / warnings.runs
    app.include_router(casework_router, prefix=API)  # each route declares its capability (tasks.*, ...)
    app.include_router(calendar_router, prefix=API)  # reads: signed in; PUT: calendar.admin
    app.include_router(assessment_router, prefix=API,
                       dependencies=[Depends(require_by_method("assessment.read", "assessment.run"))])
    app.include_router(applications_router, prefix=API)  # each route declares applications.*

    mount_spa(app)  # last: the web UI answers every path the API routers did not

    return app
