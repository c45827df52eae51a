"""The OpenAI-compatible routes' error shape, `{"error": {"message", "type", "param", "code"}}`.

Every error under /v1/ has it, whoever answers (the gate's 401/413/429, a validation error, the
route), because the clients of those routes (the openai SDK, chat apps) read only that shape.
"""

from __future__ import annotations

from typing import Any

OPENAI_PREFIX = "/v1/"

_TYPES = {
    401: "invalid_request_error",
    403: "permission_error",
    429: "rate_limit_error",
}
_CODES = {
    401: "invalid_api_key",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    503: "service_unavailable",
}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIX) or path == OPENAI_PREFIX.rstrip("/")


def error_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _TYPES.get(status, "invalid_request_error")


def openai_error(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The body of an error answered with `status`."""
    return {
        "error": {
            "message": message,
            "type": error_type(status),
            "param": param,
            "code": code or _CODES.get(status),
        }
    }
