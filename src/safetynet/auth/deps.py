"""FastAPI dependencies for sign-in, capabilities and region scope.

    from safetynet.auth.deps import require, CurrentUser, ensure_in_scope

    @router.get("/x")
    def x(user: CurrentUser = Depends(require("registry.read"))): ...

`require()` without a capability only requires a signed-in user. A missing capability is
answered 403 `forbidden` and audited; an object outside the user's region 404 (see
`ensure_in_scope`). An administrator who has not enrolled a second factor is signed in, but
every route except those of ENROLMENT_PATHS answers 403 `totp_enrolment_required` — decided
here, where the signed-in user is resolved, once for every route.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from safetynet.audit import service as audit
from safetynet.auth import errors, service
from safetynet.auth.errors import ApiError
from safetynet.auth.model import CAPABILITIES, CurrentUser
from safetynet.config import get_settings

__all__ = ["ApiError", "CurrentUser", "SESSION_COOKIE", "client_address", "current_user", "ensure_in_scope",
           "now", "require", "signed_in_user"]

SESSION_COOKIE = "safetynet_session"
# What an administrator without a confirmed second factor may reach: who am I, sign out, change
# the password, and enrol (the web UI's enrolment page uses exactly these).
ENROLMENT_PATHS = frozenset(f"/api/v1/auth/{p}" for p in ("me", "logout", "password", "totp/setup",
                                                           "totp/confirm"))


def now(request: Request) -> dt.datetime:
    """The app's clock (tests replace `app.state.clock`)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else dt.datetime.now(dt.UTC)


def client_address(request: Request) -> str:
    """The address sign-in throttling counts a client under: the TCP peer, or — only when
    `trust_forwarded_for` is set, behind a reverse proxy that appends it — the last entry of
    X-Forwarded-For (the address the proxy saw; entries before it are the client's to invent)."""
    if get_settings().trust_forwarded_for:
        forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return request.client.host if request.client else "unknown"


def current_user(request: Request) -> CurrentUser:
    """The signed-in user, resolved once per request; 401 `not_signed_in` otherwise, 403
    `totp_enrolment_required` for an administrator without a second factor outside the
    enrolment routes (the session's user is read afresh each request, so confirming the
    factor opens the same session)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user = service.resolve_session(request.app.state.engine, request.cookies.get(SESSION_COOKIE),
                                   now=now(request))
    if user is None:
        raise errors.not_signed_in()
    if user.totp_enrolment_required and request.url.path not in ENROLMENT_PATHS:
        raise errors.totp_enrolment_required()
    request.state.user = user
    return user


async def signed_in_user(request: Request) -> CurrentUser:
    """`current_user` for async dependencies: the session is looked up (database I/O) in the
    thread pool once per request; later dependencies of the same request take it from
    `request.state` without another thread hop (each hop costs more CPU than the check)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    return await run_in_threadpool(current_user, request)


def audit_denied(request: Request, user: CurrentUser, detail: str) -> None:
    """One `denied` row for the request's route (a capability missing, an object not found or outside
    the user's region)."""
    audit.record(request.app.state.engine, actor=user, action="denied", object_type="route",
                 object_id=f"{request.method} {request.url.path}"[:64], result="denied",
                 detail=detail, at=now(request))


def require(*capabilities: str) -> Callable[[Request], Awaitable[CurrentUser]]:
    """A dependency giving the signed-in user who holds every one of `capabilities`.
    Async, so that checking a capability needs no thread of its own; the denial's audit row
    is written in the thread pool."""
    unknown = [c for c in capabilities if c not in CAPABILITIES]
    if unknown:
        raise ValueError(f"unknown capability {unknown}; known: {', '.join(CAPABILITIES)}")

    async def dependency(request: Request) -> CurrentUser:
        user = await signed_in_user(request)
        for capability in capabilities:
            if not user.can(capability):
                await run_in_threadpool(audit_denied, request, user, f"missing {capability}")
                raise errors.forbidden(capability)
        return user

    dependency.__name__ = "require_" + ("_".join(c.replace(".", "_") for c in capabilities) or "signed_in")
    return dependency


def ensure_in_scope(user: CurrentUser, region_code: str | None) -> None:
    """Raise the 404 `not_found` error unless `region_code` is in the user's subtree."""
    if not region_code or not user.in_scope(region_code):
        raise errors.out_of_region()


def require_by_method(read: str, write: str) -> Callable[[Request], Awaitable[CurrentUser]]:
    """For a router whose routes do not declare capabilities themselves: GET/HEAD need
    `read`, every other method `write` (used in `include_router(..., dependencies=...)`)."""
    read_dep, write_dep = require(read), require(write)

    async def dependency(request: Request) -> CurrentUser:
        return await (read_dep if request.method in ("GET", "HEAD") else write_dep)(request)

    dependency.__name__ = f"require_{read}_or_{write}".replace(".", "_")
    return dependency


def household_in_scope(request: Request) -> None:
    """For a router whose paths carry `{household_no}`: the household must exist in the
    signed-in user's region, otherwise 404 `not_found` (exactly as for a missing one)."""
    household_no = request.path_params.get("household_no")
    if household_no is None:
        return
    from safetynet.registry import search

    user = current_user(request)
    # autocommit: a read left in an open transaction ends in ROLLBACK when the connection goes
    # back to the pool, and psycopg drops the connection's prepared statements on ROLLBACK
    with request.app.state.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        found = search.scoped_household(conn, household_no, user.region_code)
    if found is None:
        raise errors.out_of_region()
