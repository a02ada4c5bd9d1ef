"""Errors raised by routers, rendered by `api/app.py` as the shared body
`{"code", "message", "message_zh", "field"}` (docs/web-api.md)."""

from __future__ import annotations

from safetynet.auth.errors import ApiError


def invalid(message: str, field: str | None) -> ApiError:
    """422 for input that fails a check the router or service makes itself (pydantic's own
    failures go through the RequestValidationError handler with the same body)."""
    return ApiError(422, "invalid", message, f"输入有误（{field or '请求'}）：{message}", field)
