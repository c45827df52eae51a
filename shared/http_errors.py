"""One HTTP error layer for every service: one hierarchy, one shape, one set of handlers.

Every service answers errors as {"error": "<ErrorClass>", "detail": "..."}: a client (or a
colleague reading a log) learns the shape once. A service that must speak another dialect on
some paths (the api's OpenAI-compatible routes) passes its own `render`; what is an error, its
status and its words stay here. Nothing here imports a store's client: the sandbox and telegram
images ship none, so a service names its own stores (`Dependency`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("aion.errors")


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
        self.param = param  # the field at fault, for dialects that name it (OpenAI's `param`)
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


class RangeNotSatisfiable(AppError):
    status = 416
    error = "RangeNotSatisfiable"


class Unprocessable(AppError):
    """A well-formed request whose values do not fit together (422, like a schema error)."""

    status = 422
    error = "ValidationError"


class TooManyRequests(AppError):
    status = 429
    error = "TooManyRequests"


class InternalError(AppError):
    status = 500
    error = "InternalError"


class BadGateway(AppError):
    """Something this service depends on outside AION (a model provider) failed."""

    status = 502
    error = "BadGateway"


class ServiceUnavailable(AppError):
    status = 503
    error = "ServiceUnavailable"


# Names for the errors the framework raises itself (unknown path, wrong method...).
HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


class Render(Protocol):
    """How a service turns an error into a response; `path` lets it pick a dialect."""

    def __call__(
        self,
        status: int,
        error: str,
        detail: str,
        headers: dict[str, str] | None = None,
        *,
        path: str = "",
        param: str | None = None,
        code: str | None = None,
    ) -> JSONResponse: ...


def render_error(
    status: int,
    error: str,
    detail: str,
    headers: dict[str, str] | None = None,
    *,
    path: str = "",
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    """The project's shape."""
    body = {"error": error, "detail": detail}
    return JSONResponse(body, status_code=status, headers=error_headers(status, headers))


def error_headers(status: int, headers: dict[str, str] | None) -> dict[str, str] | None:
    """A 401 says which scheme would do (RFC 9110), in every dialect."""
    if status == 401:
        return {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return headers


def field_path(loc: tuple[object, ...] | list[object]) -> str:
    """`messages[0].content` for ("body", "messages", 0, "content")."""
    field = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    return field


def describe_validation(exc: RequestValidationError) -> tuple[int, str, str, str | None]:
    """Status, error class, detail naming every field at fault, and the first such field."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "InvalidJSON", "The request body is not valid JSON.", None
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        parts.append(f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid value')}")
    first = field_path(errors[0].get("loc", ())) if errors else ""
    return 422, "ValidationError", "; ".join(parts), first or None


@dataclass(frozen=True, slots=True)
class Dependency:
    """A store the service cannot answer without: its errors mean 503, "try again shortly".

    `unstorable` picks, among `refusals` (errors the store raises for a value), those that are
    the request's fault (PostgreSQL cannot store NUL): a 422 instead of a 500."""

    name: str
    errors: tuple[type[Exception], ...]
    refusals: tuple[type[Exception], ...] = ()
    unstorable: Callable[[Exception], bool] = lambda _: False


def install_error_handlers(
    app: FastAPI,
    *,
    service: str,
    dependencies: Sequence[Dependency] = (),
    render: Render = render_error,
) -> None:
    """Every error a route can raise gets the one shape; nothing unexpected leaks its text."""

    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return render(
            exc.status,
            exc.error,
            exc.detail,
            exc.headers,
            path=request.url.path,
            param=exc.param,
            code=exc.code,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        name = HTTP_NAMES.get(exc.status_code, "HTTPError")
        headers = dict(exc.headers) if exc.headers else None
        return render(exc.status_code, name, detail, headers, path=request.url.path)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        status, error, detail, param = describe_validation(exc)
        return render(status, error, detail, path=request.url.path, param=param)

    def dependency(exc: Exception) -> Dependency:
        return next(d for d in dependencies if isinstance(exc, d.errors + d.refusals))

    async def dependency_down(request: Request, exc: Exception) -> JSONResponse:
        which = dependency(exc).name
        log.error("%s unavailable during %s %s: %s", which, request.method, request.url.path, exc)
        detail = f"{which} is unavailable; try again shortly."
        return render(503, "ServiceUnavailable", detail, path=request.url.path)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        detail = f"Something went wrong in the {service}."
        return render(500, "InternalError", detail, path=request.url.path)

    async def data_error(request: Request, exc: Exception) -> JSONResponse:
        """A value PostgreSQL cannot store is the request's fault (422); any other is ours."""
        if dependency(exc).unstorable(exc):
            detail = "A value holds a character that cannot be stored (NUL, U+0000)."
            return render(422, "ValidationError", detail, path=request.url.path)
        return await unexpected(request, exc)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for store in dependencies:
        for error in store.errors:
            app.add_exception_handler(error, dependency_down)
        for refusal in store.refusals:
            app.add_exception_handler(refusal, data_error)
    app.add_exception_handler(Exception, unexpected)


def bearer_check(expected_sha256: str, who: str) -> Callable[..., Awaitable[None]]:
    """A dependency admitting only the one credential whose SHA-256 (hex) the service was
    given, compared in constant time (internal services: tts, sandbox). `who` names its holder
    in the 401, so an operator who wired the wrong secret learns which one is wanted."""

    async def check(authorization: str | None = Header(default=None)) -> None:
        if not bearer_matches(authorization, expected_sha256):
            raise Unauthorized(f"This service answers only {who}.")

    return check


def bearer_matches(authorization: str | None, expected_sha256: str) -> bool:
    """Whether an Authorization header holds the one credential (for a WebSocket's handshake,
    which a dependency's 401 cannot refuse)."""
    scheme, _, presented = (authorization or "").partition(" ")
    digest = hashlib.sha256(presented.strip().encode()).hexdigest()
    return scheme.lower() == "bearer" and hmac.compare_digest(digest, expected_sha256)
