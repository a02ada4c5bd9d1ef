"""One bound on every integer a request carries in its path or query string.

An id or page number larger than the database's integer (`/persons/99999999999999999999`,
`?page=9223372036854775808`) reached SQLite as an `OverflowError` and PostgreSQL as a numeric
range error: a 500, a plain-text error or a dropped connection, on any route that takes an integer.
Instead of a bound on each route, an app-wide dependency looks up the integer parameters of the
route that matched (once per route, from FastAPI's own description of it) and answers 422 with the
field named when one lies outside the range a BIGINT column holds. It runs before the route's own
parameters are read (FastAPI solves dependencies first), so no route sees such a value.

Integers inside JSON or form bodies are bounded by their models; anything that still reaches the
database out of range is answered 422 by `add_error_handlers` (`api.app`), never 500.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.routing import APIRoute

from safetynet.auth import errors

#: the range of a 64-bit signed integer: a BIGINT on PostgreSQL, an INTEGER on SQLite
MIN_INT, MAX_INT = -(2**63), 2**63 - 1


def _holds_int(annotation: Any) -> bool:
    """int, int | None, list[int], Annotated[int, …] (bool is an int to Python, not here)."""
    if annotation is int:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _holds_int(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, set, typing.Sequence):
        return any(_holds_int(a) for a in get_args(annotation) if a is not type(None))
    return False


def _integer_params(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """(where, name) of every integer path or query parameter of the route and its dependencies."""
    found: list[tuple[str, str]] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        for where, params in (("path", dependant.path_params), ("query", dependant.query_params)):
            found += [(where, p.alias) for p in params if _holds_int(p.field_info.annotation)]
        stack.extend(dependant.dependencies)
    return tuple(dict.fromkeys(found))


def out_of_range(where: str, name: str, raw: str) -> errors.ApiError:
    return errors.ApiError(
        422, "invalid",
        f"{name} ({where}) must be a whole number between {MIN_INT} and {MAX_INT}, got {raw[:40]!r}",
        f"{name} 超出允许范围（须为 {MIN_INT} 至 {MAX_INT} 之间的整数）", field=name)


def _too_large(raw: str) -> bool:
    text = raw.strip()
    digits = text.lstrip("+-")
    if not digits.isdigit() or len(digits) < 19:  # not an integer (FastAPI says so), or surely in range
        return False
    return not MIN_INT <= int(text) <= MAX_INT


async def bounded_integers(request: Request) -> None:
    """App-wide dependency: 422 for an integer path or query parameter outside MIN_INT..MAX_INT."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    params = getattr(route, "_safetynet_integer_params", None)
    if params is None:  # worked out once per route, kept on it
        params = route._safetynet_integer_params = _integer_params(route)
    for where, name in params:
        values = ([request.path_params.get(name)] if where == "path" else request.query_params.getlist(name))
        for raw in values:
            if raw is not None and _too_large(str(raw)):
                raise out_of_range(where, name, str(raw))
