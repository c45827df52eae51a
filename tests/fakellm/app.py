"""The fake's ASGI application: routing, auth, recording, streaming.

Written as a bare ASGI callable (no framework) so a streamed token costs one
pre-encoded `send` and nothing else: the fake is the benchmark's baseline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from . import wire
from .cache import PromptCache
from .embeddings import embeddings_body
from .script import DirectiveError, Plan, plan_reply
from .speech import speech_reply
from .transcribe import transcription_reply

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MODELS = ["fake-model", "fake-model-2"]
_JSON = (b"content-type", b"application/json")
_SSE_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
    ],
}


class DropConnection(Exception):
    """Raised mid-stream so uvicorn aborts the connection (the `[[drop=K]]` directive)."""


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for deliberate drops; real app errors still get logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


def install_log_filter() -> None:
    """Attach `_QuietDrops` to uvicorn's error logger once (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


class Recorder:
    """Chat request bodies in arrival order; written by the server loop, read by tests."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self.count = 0  # requests received, kept even when bodies are not (benchmarks)

    def add(self, body: Any) -> None:
        self.count += 1
        if self.enabled:
            with self._lock:
                self._items.append(body)

    def snapshot(self) -> list[Any]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


async def _send_bytes(
    send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = (_JSON,)
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, status: int, message: str | None = None, **kw: Any) -> None:
    await _send_bytes(send, status, wire.error_body(status, message, **kw))


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _authorized(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return scheme.lower() == "bearer" and bool(token.strip())
    return False


class FakeLLMApp:
    """ASGI app for `/v1/chat/completions`, `/v1/audio/speech`, `/v1/audio/transcriptions`,
    `/v1/embeddings`, `/v1/models` and the
    `/_requests` recorder."""

    def __init__(self, recorder: Recorder | None = None, models: list[str] | None = None) -> None:
        self.recorder = recorder or Recorder()
        # The bearer token of each chat request, in arrival order (tests of key rotation).
        self.authorizations = Recorder(enabled=self.recorder.enabled)
        self._models_body = wire.models_body(models or DEFAULT_MODELS)
        self.prompt_cache = PromptCache()
        # How often each message was failed on purpose (`times=N`); only the server loop writes.
        self._failed: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"].rstrip("/")
        if path.startswith("/v1/") and not _authorized(scope):
            await _read_body(receive)
            await _send_error(send, 401)
        elif path == "/v1/chat/completions" and method == "POST":
            self.authorizations.add(dict(scope["headers"]).get(b"authorization", b"").decode())
            await self._chat(receive, send)
        elif path == "/v1/audio/speech" and method == "POST":
            await self._speech(receive, send)
        elif path == "/v1/audio/transcriptions" and method == "POST":
            content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
            status, heard = transcription_reply(content_type, await _read_body(receive))
            await _send_bytes(send, status, heard)
        elif path == "/v1/embeddings" and method == "POST":
            status, reply = embeddings_body(orjson.loads(await _read_body(receive) or b"null"))
            await _send_bytes(send, status, orjson.dumps(reply))
        elif path == "/v1/models" and method == "GET":
            await _send_bytes(send, 200, self._models_body)
        elif path == "/_requests" and method == "GET":
            await _send_bytes(send, 200, orjson.dumps(self.recorder.snapshot()))
        elif path == "/_requests/count" and method == "GET":
            await _send_bytes(send, 200, orjson.dumps({"count": self.recorder.count}))
        elif path == "/_requests" and method == "DELETE":
            self.recorder.clear()
            await _send_bytes(send, 200, b"[]")
        elif path == "/_health" and method == "GET":
            await _send_bytes(send, 200, b'{"ok":true}')
        else:
            await _send_error(send, 404, f"Invalid URL ({method} {scope['path']})")

    def _fails_now(self, plan: Plan) -> bool:
        """Whether this request fails (`times=N`: the first N for the same message do)."""
        if plan.fail_times is None:
            return True
        failed = self._failed.get(plan.key, 0)
        self._failed[plan.key] = failed + 1
        return failed < plan.fail_times

    async def _speech(self, receive: Receive, send: Send) -> None:
        try:
            body = orjson.loads(await _read_body(receive))
        except orjson.JSONDecodeError:
            await _send_error(send, 400, "We could not parse the JSON body of your request.")
            return
        status, content_type, reply = speech_reply(body)
        await _send_bytes(send, status, reply, ((b"content-type", content_type),))

    async def _chat(self, receive: Receive, send: Send) -> None:
        try:
            body = orjson.loads(await _read_body(receive))
        except orjson.JSONDecodeError:
            await _send_error(send, 400, "We could not parse the JSON body of your request.")
            return
        self.recorder.add(body)
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            await _send_error(send, 400, "you must provide a model parameter")
            return
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            await _send_error(
                send,
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
            return
        stream = body.get("stream") is True
        options = body.get("stream_options")
        if options is not None and not stream:
            await _send_error(
                send,
                400,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
            return
        key = body.get("prompt_cache_key")
        if key is not None and not isinstance(key, str):
            await _send_error(
                send,
                400,
                "Invalid type for 'prompt_cache_key': expected a string.",
                param="prompt_cache_key",
                code="invalid_type",
            )
            return
        try:
            plan = plan_reply(body)
        except DirectiveError as exc:
            await _send_error(send, 400, str(exc))
            return
        plan = dataclasses.replace(
            plan, cached_tokens=min(self.prompt_cache.read(body), plan.prompt_tokens)
        )
        if plan.fail is not None and self._fails_now(plan):
            headers: tuple[tuple[bytes, bytes], ...] = (_JSON,)
            if plan.retry_after is not None:
                headers += ((b"retry-after", str(plan.retry_after).encode()),)
            await _send_bytes(send, plan.fail, wire.error_body(plan.fail), headers)
            return
        if plan.hang:
            await _wait_until_gone(receive)  # not a byte, not even the status line
            return
        cid, created, model = wire.new_completion_id(), wire.now(), body["model"]
        if stream:
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            encoder = wire.StreamEncoder(cid, created, model, include_usage)
            await _stream(plan, encoder, receive, send)
            return
        delay = plan.first_s + plan.gap_s * max(len(plan.tokens) - 1, 0)
        if delay:
            await asyncio.sleep(delay)
        usage = wire.usage(plan.prompt_tokens, len(plan.tokens), plan.cached_tokens)
        content = "".join(plan.tokens)
        calls = [(c.call_id, c.name, c.arguments) for c in plan.tool_calls]
        reply = wire.completion_body(
            cid, created, model, content, plan.finish_reason, usage, calls or None
        )
        await _send_bytes(send, 200, reply)


async def _wait_until_gone(receive: Receive) -> None:
    """Block until the client disconnects (a hung server, as the client sees it)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _stream(plan: Plan, encoder: wire.StreamEncoder, receive: Receive, send: Send) -> None:
    """SSE response; with delays, a watcher on `receive` stops work once the client is gone."""
    tokens = plan.tokens if plan.drop is None else plan.tokens[: plan.drop]
    if plan.stall is not None:
        tokens = tokens[: plan.stall]
    await send(_SSE_START)
    await send({"type": "http.response.body", "body": encoder.role(), "more_body": True})
    slow = plan.gap_s > 0 or plan.first_s > 0
    gone = asyncio.ensure_future(receive()) if slow else None
    try:
        for i, token in enumerate(tokens):
            if slow:
                await asyncio.sleep(plan.first_s if i == 0 else plan.gap_s)
                if gone is not None and gone.done():
                    return
            if i == plan.garble:
                body = b'data: {"id": "chatcmpl-garbled", "choices": [{"delta": {"cont\n\n'
                await send({"type": "http.response.body", "body": body, "more_body": True})
            body = encoder.content(token)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if plan.stall is not None:  # the stream stays open, silent, until the client goes
            message = await gone if gone is not None else await receive()
            if message["type"] != "http.disconnect":
                await _wait_until_gone(receive)
            return
        for index, call in enumerate(plan.tool_calls):
            body = encoder.tool_call(index, call.call_id, call.name, call.arguments)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if plan.drop is not None:
            raise DropConnection
        tail = encoder.tail(plan.finish_reason, plan.prompt_tokens, len(tokens), plan.cached_tokens)
        await send({"type": "http.response.body", "body": tail, "more_body": False})
    finally:
        if gone is not None:
            gone.cancel()


def create_app(record: bool = True, models: list[str] | None = None) -> FakeLLMApp:
    """App factory (also usable as `uvicorn --factory tests.fakellm.app:create_app`)."""
    install_log_filter()
    return FakeLLMApp(Recorder(enabled=record), models)
