"""The fake's ASGI app: POST /v1/messages (stream only), with behaviour picked by the model name.

- `claude-fail-<STATUS>`: that HTTP status with Anthropic's error body (429 with retry-after: 1).
- `claude-flaky-<anything>`: the first request for that exact name gets 429 + retry-after: 1.
- `claude-break-after-<N>`: N text deltas, then an in-stream `overloaded_error` event.
- `claude-stall-after-<N>`: N text deltas, then silence, the stream left open until the client
  goes; `claude-end-after-<N>`: N text deltas, then the body ends without `message_stop`;
  `claude-drop-after-<N>`: N text deltas, then the connection is aborted mid-body;
  `claude-hang`: not a byte, not even the status line, until the client goes.
- `claude-quotes-key`: 401 whose message quotes the key it was sent (as some providers do).
- any other name: thinking first when asked for, then a `[[tool=NAME:JSON]]` call in the last
  user message (until its result comes back), else `Tool results: ...`, else `You said: ...`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import orjson

from tests.fakellm.app import DropConnection, install_log_filter

from .cache import PromptCache
from .validate import Invalid, check_request

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_TOOL = re.compile(r"\[\[tool=([A-Za-z0-9_.-]+)(?::(\S*))?\]\]")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
THINKING_TEXT = ["Let me think", " about this."]
# Faults after N text deltas: the stream goes silent, ends cleanly, or is cut off.
_FAULT = re.compile(r"claude-(stall|end|drop)-after-(\d+)")


def signature(text: str) -> str:
    return "sig-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **data}) + b"\n\n"


# AION starts the owner's latest message with a note (time, memories) in a block of its own;
# the fake answers the owner's words, not the note.
AION_NOTE_MARKER = "[Note from AION]"


def _texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if b.get("type") == "text")


def _owner_texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    return _texts([b for b in content if not str(b.get("text", "")).startswith(AION_NOTE_MARKER)])


class FakeAnthropicApp:
    def __init__(self) -> None:
        install_log_filter()  # the deliberate drops' tracebacks stay out of the test output
        self.requests: list[dict[str, Any]] = []
        self.prompt_cache = PromptCache()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if scope["method"] != "POST" or scope["path"] != "/v1/messages":
            await _error(send, 404, f"Not found: {scope['path']}")
            return
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            await _error(send, 400, "There was an error parsing the body of your request.")
            return
        with self._lock:
            self.requests.append({"body": body, "headers": headers})
        if not headers.get("x-api-key") and not headers.get("authorization"):
            await _error(send, 401, "x-api-key header is required")
            return
        if "anthropic-version" not in headers:
            await _error(send, 400, "anthropic-version header is required")
            return
        try:
            check_request(body)
        except Invalid as exc:
            await _error(send, 400, str(exc))
            return
        if body.get("stream") is not True:
            await _error(send, 400, "this fake only streams")
            return
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        await self._reply(body, receive, send, key)

    async def _reply(self, body: dict[str, Any], receive: Receive, send: Send, key: str) -> None:
        model: str = body["model"]
        if model == "claude-hang":
            await _wait_until_gone(receive)
            return
        if model.startswith("claude-fail-"):
            await _error(send, int(model.removeprefix("claude-fail-")), "Scripted failure")
            return
        if model == "claude-quotes-key":  # some providers echo the key they refused
            await _error(send, 401, f"invalid x-api-key: {key}")
            return
        if model.startswith("claude-flaky-"):
            with self._lock:
                first = model not in self._seen
                self._seen.add(model)
            if first:
                await _error(send, 429, "Rate limited (scripted, once)")
                return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"request-id", b"req_f")],
            }
        )
        fault = _FAULT.fullmatch(model)
        for part in _stream(body, self.prompt_cache.usage(body)):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        if fault is not None and fault[1] == "stall":
            await _wait_until_gone(receive)
            return
        if fault is not None and fault[1] == "drop":
            raise DropConnection  # uvicorn aborts the connection: the chunked body never ends
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _stream(body: dict[str, Any], usage: dict[str, int]) -> list[bytes]:
    messages = body["messages"]
    model = body["model"]
    start = {
        "id": "msg_" + secrets.token_hex(8),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    out = [_event("message_start", {"message": start}), _event("ping", {})]
    index = 0
    if body.get("thinking", {}).get("type") == "enabled":
        block: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        out.append(_event("content_block_start", {"index": 0, "content_block": block}))
        for piece in THINKING_TEXT:
            delta = {"type": "thinking_delta", "thinking": piece}
            out.append(_event("content_block_delta", {"index": 0, "delta": delta}))
        delta = {"type": "signature_delta", "signature": signature("".join(THINKING_TEXT))}
        out.append(_event("content_block_delta", {"index": 0, "delta": delta}))
        out.append(_event("content_block_stop", {"index": 0}))
        index = 1
    last = messages[-1]["content"]
    results = [b for b in last if b.get("type") == "tool_result"] if isinstance(last, list) else []
    wanted = _TOOL.search(_owner_texts(last)) if not results else None
    if wanted is not None:
        call_id = "toolu_" + secrets.token_hex(6)
        block = {"type": "tool_use", "id": call_id, "name": wanted[1], "input": {}}
        out.append(_event("content_block_start", {"index": index, "content_block": block}))
        arguments = unquote(wanted[2] or "{}")
        for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            out.append(_event("content_block_delta", {"index": index, "delta": delta}))
        out.append(_event("content_block_stop", {"index": index}))
        return [*out, *_end("tool_use", 3)]
    if results:
        text = "Tool results: " + " | ".join(_texts(r["content"]) for r in results)
    else:
        text = "You said: " + _TOOL.sub("", _owner_texts(last)).strip()
    tokens = re.findall(r"\s*\S+", text)
    breaking = model.startswith("claude-break-after-")
    if breaking:
        tokens = tokens[: int(model.removeprefix("claude-break-after-"))]
    fault = _FAULT.fullmatch(model)
    if fault is not None:
        tokens = tokens[: int(fault[2])]
    out.append(
        _event(
            "content_block_start",
            {"index": index, "content_block": {"type": "text", "text": ""}},
        )
    )
    for token in tokens:
        delta = {"type": "text_delta", "text": token}
        out.append(_event("content_block_delta", {"index": index, "delta": delta}))
    if breaking:
        error = {"type": "overloaded_error", "message": "Overloaded (scripted)"}
        return [*out, _event("error", {"error": error})]
    if fault is not None:
        return out  # what comes next (silence, an end, a cut) is the app's to do
    out.append(_event("content_block_stop", {"index": index}))
    return [*out, *_end("end_turn", len(tokens))]


def _end(stop_reason: str, output_tokens: int) -> list[bytes]:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return [
        _event("message_delta", {"delta": delta, "usage": {"output_tokens": output_tokens}}),
        _event("message_stop", {}),
    ]


async def _wait_until_gone(receive: Receive) -> None:
    """Block until the client disconnects (a hung server, as the client sees it)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _error(send: Send, status: int, message: str) -> None:
    kind = _ERROR_TYPES.get(status, "api_error")
    body = orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})
    headers = [(b"content-type", b"application/json"), (b"request-id", b"req_fake")]
    if status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
