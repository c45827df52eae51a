"""The api's errors: the project's one layer (shared/http_errors.py) in two dialects.

Routes raise the shared classes (re-exported here, so a route imports its errors from its own
service); they render as {"error", "detail"}, or in OpenAI's shape on the OpenAI-compatible
routes (/v1/..., services/api/openai_errors.py): the dialect is picked by the path, in one place.
"""

from __future__ import annotations

import redis.exceptions
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Send

from services.api.openai_errors import is_openai_path, openai_error
from shared.db import POSTGRES
from shared.http_errors import (
    AppError,
    BadGateway,
    Conflict,
    Dependency,
    Forbidden,
    InternalError,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    error_headers,
    render_error,
)
from shared.http_errors import install_error_handlers as _install

__all__ = [
    "AppError",
    "BadGateway",
    "Conflict",
    "Forbidden",
    "InternalError",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "error_response",
    "install_error_handlers",
    "send_error",
]

REDIS = Dependency(
    "Redis", errors=(redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
)


def error_response(
    status: int,
    error: str,
    detail: str,
    headers: dict[str, str] | None = None,
    *,
    path: str = "",
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    """The error as AION renders it, or as OpenAI does when `path` is one of its routes."""
    if not is_openai_path(path):
        return render_error(status, error, detail, headers, path=path)
    body = openai_error(status, detail, param, code)
    return JSONResponse(body, status_code=status, headers=error_headers(status, headers))


async def send_error(
    send: Send,
    status: int,
    error: str,
    detail: str,
    headers: dict[str, str] | None = None,
    *,
    path: str = "",
) -> None:
    """The same shape as `error_response`, sent by an ASGI middleware (before any route)."""
    response = error_response(status, error, detail, headers, path=path)
    start = {"type": "http.response.start", "status": status, "headers": response.raw_headers}
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


def install_error_handlers(app: FastAPI) -> None:
    _install(app, service="api", dependencies=(REDIS, POSTGRES), render=error_response)
