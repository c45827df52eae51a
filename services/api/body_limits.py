"""Request bodies are JSON and bounded in size: checked on the way in, before any route reads them.

The front gate (services/api/gate.py) picks the limit per route, after it has let the caller in.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import send_error

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _too_large(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes} bytes."


async def within_limits(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    max_bytes: int,
    content_type: bytes = b"application/json",
) -> None:
    """Run `app` unless the body is declared larger than `max_bytes` (413) or is not of
    `content_type` (415: JSON, or multipart/form-data on an upload route); a body that turns
    out larger while streamed in ends the request with 413 as well."""
    if scope["method"] not in _BODY_METHODS:
        await app(scope, receive, send)
        return
    path = scope["path"]  # picks the error shape (OpenAI's under /v1/)
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
    if length is not None and not length.isdigit():
        await send_error(send, 400, "BadRequest", "Content-Length is not a number.", path=path)
        return
    if length is not None and int(length) > max_bytes:
        await send_error(send, 413, "PayloadTooLarge", _too_large(max_bytes), path=path)
        return
    has_body = chunked or (length is not None and int(length) > 0)
    sent_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if has_body and sent_type != content_type:
        detail = f"The request body must be {content_type.decode()}."
        await send_error(send, 415, "UnsupportedMediaType", detail, path=path)
        return

    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                # Raised into whatever reads the body; the app's handler renders it as 413.
                raise HTTPException(413, _too_large(max_bytes))
        return message

    await app(scope, counting_receive, send)
