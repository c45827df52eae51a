"""ASGI middleware: request bodies are JSON and bounded in size, checked before any route."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


class _TooLarge(Exception):
    pass


async def _reject(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """413 for bodies over `max_bytes` (declared or streamed), 415 for non-JSON bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
        if length is not None and not length.isdigit():
            await _reject(send, 400, "BadRequest", "Content-Length is not a number.")
            return
        if length is not None and int(length) > self.max_bytes:
            await _reject(send, 413, "PayloadTooLarge", self._too_large())
            return
        has_body = chunked or (length is not None and int(length) > 0)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if has_body and content_type != b"application/json":
            await _reject(
                send, 415, "UnsupportedMediaType", "The request body must be application/json."
            )
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await _reject(send, 413, "PayloadTooLarge", self._too_large())

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."
