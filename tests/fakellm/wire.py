"""OpenAI Chat Completions wire format, pre-encoded with orjson.

Streaming is the hot path of the benchmark, so a `StreamEncoder` serialises the
per-stream constant parts of a chunk once and each token costs one
`orjson.dumps(str)` plus a bytes join.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"
SYSTEM_FINGERPRINT = "fp_fakellm"
_SLOT = "\x00fakellm-slot\x00"
_SLOT_JSON = orjson.dumps(_SLOT)

_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request (fakellm).", "invalid_request_error", None),
    401: (
        "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
        None,
    ),
    403: ("You are not allowed to access this resource.", "invalid_request_error", None),
    404: ("The requested resource does not exist.", "invalid_request_error", None),
    429: (
        "Rate limit reached (fakellm). Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def new_completion_id() -> str:
    """Fresh `chatcmpl-...` id, shaped like OpenAI's."""
    return "chatcmpl-" + secrets.token_hex(15)[:29]


def now() -> int:
    """Unix seconds, the unit of OpenAI's `created` field."""
    return int(time.time())


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
    """OpenAI `usage` object (other detail fields zeroed, as OpenAI sends them); cached tokens
    are a part of `prompt_tokens`."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def error_body(
    status: int,
    message: str | None = None,
    *,
    type_: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> bytes:
    """`{"error": {message, type, param, code}}` with OpenAI-like defaults per status."""
    d_message, d_type, d_code = _ERROR_DEFAULTS.get(
        status,
        (
            f"fakellm error {status}",
            "server_error" if status >= 500 else "invalid_request_error",
            None,
        ),
    )
    return orjson.dumps(
        {
            "error": {
                "message": message or d_message,
                "type": type_ or d_type,
                "param": param,
                "code": code if code is not None else d_code,
            }
        }
    )


def tool_calls_message(calls: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """`message.tool_calls` of a non-streamed completion: (id, name, arguments) each."""
    return [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        for cid, name, args in calls
    ]


def completion_body(
    cid: str,
    created: int,
    model: str,
    content: str,
    finish_reason: str,
    usage_obj: dict[str, Any],
    tool_calls: list[tuple[str, str, str]] | None = None,
) -> bytes:
    """Non-streaming `chat.completion` object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content if content or not tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    if tool_calls:
        message["tool_calls"] = tool_calls_message(tool_calls)
    return orjson.dumps(
        {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": usage_obj,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
    )


def models_body(model_ids: list[str], created: int = 1_700_000_000) -> bytes:
    """`GET /v1/models` list object."""
    return orjson.dumps(
        {
            "object": "list",
            "data": [
                {"id": mid, "object": "model", "created": created, "owned_by": "fakellm"}
                for mid in model_ids
            ],
        }
    )


class StreamEncoder:
    """Encodes the SSE events of one streamed completion (same id/created/model on all)."""

    __slots__ = ("_base", "_include_usage", "_post", "_pre")

    def __init__(self, cid: str, created: int, model: str, include_usage: bool) -> None:
        base: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [],
        }
        if include_usage:
            base["usage"] = None  # OpenAI sends an explicit null until the usage chunk
        self._base = base
        self._include_usage = include_usage
        pre, post = self._choice({"content": _SLOT}, None).split(_SLOT_JSON)
        self._pre, self._post = pre, post

    def _choice(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return b"data: " + orjson.dumps({**self._base, "choices": [choice]}) + b"\n\n"

    def role(self) -> bytes:
        """First event: `delta.role = "assistant"` and empty content."""
        return self._choice({"role": "assistant", "content": "", "refusal": None}, None)

    def content(self, token: str) -> bytes:
        """One `delta.content` event (the hot path)."""
        return self._pre + orjson.dumps(token) + self._post

    def tool_call(self, index: int, call_id: str, name: str, arguments: str) -> bytes:
        """A tool call as OpenAI streams it: id and name first, then the arguments in pieces."""
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        out = self._choice({"role": "assistant", "content": None, "tool_calls": [head]}, None)
        middle = len(arguments) // 2
        for piece in (arguments[:middle], arguments[middle:]):
            if piece:
                delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                out += self._choice(delta, None)
        return out

    def tail(
        self, finish_reason: str, prompt_tokens: int, completion_tokens: int, cached: int = 0
    ) -> bytes:
        """Finish event, optional usage event (`choices: []`), then `[DONE]`, as one write."""
        out = self._choice({}, finish_reason)
        if self._include_usage:
            final = {**self._base, "usage": usage(prompt_tokens, completion_tokens, cached)}
            out += b"data: " + orjson.dumps(final) + b"\n\n"
        return out + DONE
