"""The tts service's errors, in the project's one shape: {"error": ..., "detail": ...}."""

from __future__ import annotations

import logging

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("aion.tts.errors")


class TTSError(Exception):
    status = 400
    error = "BadRequest"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(TTSError):
    status = 401
    error = "Unauthorized"


class NothingToSay(TTSError):
    status = 422
    error = "ValidationError"


class UnknownVoice(TTSError):
    status = 422
    error = "ValidationError"


class SpeechOff(TTSError):
    status = 409
    error = "Conflict"


class SpeechFailed(TTSError):
    status = 503
    error = "ServiceUnavailable"


def _response(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def _tts_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TTSError)
    return _response(exc.status, exc.error, exc.detail)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return _response(400, "InvalidJSON", "The request body is not valid JSON.")
    parts = [
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
        for e in exc.errors()
    ]
    return _response(422, "ValidationError", "; ".join(parts))


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _response(exc.status_code, "HTTPError", str(exc.detail))


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("PostgreSQL unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _response(503, "ServiceUnavailable", "PostgreSQL is unavailable; try again shortly.")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return _response(500, "InternalError", "Something went wrong in the tts service.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TTSError, _tts_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for database_error in (psycopg.OperationalError, psycopg_pool.PoolTimeout):
        app.add_exception_handler(database_error, _database_down)
    app.add_exception_handler(Exception, _unexpected)
