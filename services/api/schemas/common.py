"""What every resource shares: the strict request base, `ok` answers, the one error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CHANNEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$"

Channel = Field(default="web", pattern=CHANNEL_PATTERN, description="conversation channel")


class Body(BaseModel):
    """A request body: unknown fields are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class Ok(BaseModel):
    ok: bool = True


class Deleted(BaseModel):
    ok: bool = True
    deleted: int


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorBody(BaseModel):
    """The error shape of the OpenAI-compatible routes under /v1 (services/api/openai_errors.py):
    the one their clients read."""

    error: OpenAIErrorDetail


class ErrorBody(BaseModel):
    """The one error shape, for every 4xx and 5xx (services/api/errors.py renders it)."""

    error: str = Field(description="the error's class, e.g. NotFound, ValidationError")
    detail: str = Field(description="what was wrong, for a person")


# What each error status means on any route (API.md, "Conventions" and "Errors").
_MEANING = {
    400: "a body that is not valid JSON",
    401: "missing or wrong bearer token (with WWW-Authenticate: Bearer)",
    403: "a credential that does not open this route",
    404: "no such resource",
    409: "a conflict with the current state",
    413: "the body is too large",
    415: "a body that is not application/json",
    416: "a Range outside the file or malformed (with Content-Range: bytes */<size>)",
    422: "a request value that is not valid; detail names the field",
    429: "too many requests or failed tokens from this address (with Retry-After)",
    500: "an unexpected error (never a traceback)",
    503: "PostgreSQL or Redis is unavailable",
}


def errors(
    *statuses: int, body: bool = False, public: bool = False, openai: bool = False
) -> dict[int | str, Any]:
    """`responses=` for a route: the statuses any route may answer (the front gate's, a
    dependency down, an unexpected error), those of a route with a JSON body, and its own; in
    the OpenAI error shape under /v1."""
    codes = {429, 500, 503, *statuses}
    if not public:
        codes |= {401, 403}
    if body:
        codes |= {400, 413, 415, 422}
    model = OpenAIErrorBody if openai else ErrorBody
    return {code: {"model": model, "description": _MEANING[code]} for code in sorted(codes)}


def links(parameters: dict[str, str], **operations: str) -> dict[str, Any]:
    """OpenAPI links: what a client (or a fuzzer following them) does next with a response,
    each named link calling its operation with `parameters` taken from this exchange."""
    return {
        name: {"operationId": operation, "parameters": parameters}
        for name, operation in operations.items()
    }
