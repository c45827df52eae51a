"""One error hierarchy and one error shape: {"error": "<ErrorClass>", "detail": "..."}.

The OpenAI-compatible routes (/v1/...) render the same errors in OpenAI's shape instead
(services/api/openai_errors.py): the shape is picked by the request path, in one place.
"""

from __future__ import annotations

import logging

import psycopg
import psycopg_pool
import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from services.api.openai_errors import is_openai_path, openai_error

log = logging.getLogger("aion.api.errors")


class AppError(Exception):
    """An error a client can act on; rendered with its status and class name."""

    status = 400
    error = "BadRequest"

    def __init__(
        self,
        detail: str,
        headers: dict[str, str] | None = None,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.param = param  # `param` and `code` only show in the OpenAI shape
        self.code = code


class Unauthorized(AppError):
    status = 401
    error = "Unauthorized"


class Forbidden(AppError):
    status = 403
    error = "Forbidden"


class NotFound(AppError):
    status = 404
    error = "NotFound"


class Conflict(AppError):
    status = 409
    error = "Conflict"


class PayloadTooLarge(AppError):
    status = 413
    error = "PayloadTooLarge"


class UnsupportedMediaType(AppError):
    status = 415
    error = "UnsupportedMediaType"


class Unprocessable(AppError):
    """A well-formed request whose values do not fit together (422, like a schema error)."""

    status = 422
    error = "ValidationError"


class BadGateway(AppError):
    """The model provider behind a turn failed (the OpenAI-compatible routes say so)."""

    status = 502
    error = "BadGateway"


class InternalError(AppError):
    status = 500
    error = "InternalError"


class RangeNotSatisfiable(AppError):
    status = 416
    error = "RangeNotSatisfiable"


class ServiceUnavailable(AppError):
    status = 503
    error = "ServiceUnavailable"


_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


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
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    if is_openai_path(path):
        body: dict[str, object] = openai_error(status, detail, param, code)
    else:
        body = {"error": error, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


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


def _field(loc: tuple[object, ...] | list[object]) -> str:
    """`messages[0].content` for ("body", "messages", 0, "content")."""
    field = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    return field


def _describe_validation(exc: RequestValidationError) -> tuple[int, str, str, str | None]:
    """Status, error class, detail and the first field at fault."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "InvalidJSON", "The request body is not valid JSON.", None
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        parts.append(f"{field}: {err.get('msg', 'invalid value')}")
    first = _field(errors[0].get("loc", ())) if errors else ""
    return 422, "ValidationError", "; ".join(parts), first or None


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(
        exc.status,
        exc.error,
        exc.detail,
        exc.headers,
        path=request.url.path,
        param=exc.param,
        code=exc.code,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    return error_response(exc.status_code, name, detail, path=request.url.path)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, error, detail, param = _describe_validation(exc)
    return error_response(status, error, detail, path=request.url.path, param=param)


async def _dependency_down(request: Request, exc: Exception) -> JSONResponse:
    which = "Redis" if isinstance(exc, redis.exceptions.RedisError) else "PostgreSQL"
    log.error("%s unavailable during %s %s: %s", which, request.method, request.url.path, exc)
    detail = f"{which} is unavailable; try again shortly."
    return error_response(503, "ServiceUnavailable", detail, path=request.url.path)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL cannot store some characters a valid JSON string or URL may hold (NUL): that
    is the request's fault, said as a 422. Any other data error is ours (500)."""
    if _unstorable(exc):
        detail = "A value holds a character that cannot be stored (NUL, U+0000)."
        return error_response(422, "ValidationError", detail)
    return await _unexpected(request, exc)


def _unstorable(exc: Exception) -> bool:
    return isinstance(exc, psycopg.errors.UntranslatableCharacter) or "NUL" in str(exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    detail = "Something went wrong on the server."
    return error_response(500, "InternalError", detail, path=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for dependency_error in (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        psycopg.OperationalError,
        psycopg_pool.PoolTimeout,
    ):
        app.add_exception_handler(dependency_error, _dependency_down)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
