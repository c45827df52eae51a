"""Anthropic Messages API through the `anthropic` SDK, streamed.

As in openai_compat.py, the SDK makes the request (auth, base URL, retries with retry-after
before the stream starts, status errors) and the SSE `data:` lines are decoded here with orjson:
no SDK object per event. Extended thinking is asked for when the turn's thinking level is not
`off` and streamed as ReasoningDelta; each finished thinking block also comes out whole as a
ReasoningBlock, so a tool loop can send it back as Anthropic requires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import orjson

from services.worker.providers.anthropic_messages import (
    EPHEMERAL,
    in_tool_loop_without_thinking,
    mark_history,
    translate,
)
from services.worker.providers.base import (
    ProviderChunk,
    ProviderError,
    ProviderRequest,
    ReasoningBlock,
    ReasoningDelta,
    TextDelta,
    ToolCallRequest,
    Usage,
)
from services.worker.providers.http_client import (
    DEFAULT_TRANSPORT,
    Transport,
    anthropic_http_client,
    decoded_chunks,
)

THINKING_BUDGET = {"minimal": 1024, "standard": 4096, "deep": 16384}
_PASSED_OPTIONS = ("temperature", "top_p", "top_k", "stop_sequences", "metadata")


def _max_tokens(model: str) -> int:
    legacy = model.startswith("claude-3-") and not model.startswith("claude-3-7")
    return 4096 if legacy else 8192


def _can_think(model: str) -> bool:
    return not model.startswith(("claude-2", "claude-instant")) and (
        not model.startswith("claude-3-") or model.startswith("claude-3-7")
    )


def build_body(request: ProviderRequest) -> dict[str, Any]:
    system, messages = translate(request.messages)
    options = request.options
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": int(options.get("max_tokens") or _max_tokens(request.model)),
        "stream": True,
    }
    body.update({k: options[k] for k in _PASSED_OPTIONS if k in options})
    if system:
        # One block, so the stable prefix (tools, then system) ends on a cache breakpoint.
        body["system"] = [{"type": "text", "text": system, "cache_control": EPHEMERAL}]
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    mark_history(messages)
    budget = THINKING_BUDGET.get(request.thinking)
    if budget and _can_think(request.model) and not in_tool_loop_without_thinking(messages):
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        body["max_tokens"] = max(body["max_tokens"], budget + 4096)
        body.pop("temperature", None)  # thinking allows no other temperature than 1
        body.pop("top_k", None)
    return body


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        transport: Transport = DEFAULT_TRANSPORT,
    ) -> None:
        self._timeout = timeout
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=anthropic_http_client(transport, timeout),
        )

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        model = request.model
        decoder = _StreamDecoder(model)
        body = build_body(request)
        try:
            async with self._client.messages.with_streaming_response.create(**body) as response:
                chunks = decoded_chunks(response.http_response, decoder, request.read_window)
                async for chunk in chunks:
                    yield chunk
        except anthropic.APIStatusError as exc:
            raise ProviderError(
                f"{model}: Anthropic answered HTTP {exc.status_code}: "
                f"{_short(_error_message(exc))}",
                status=exc.status_code,
            ) from exc
        except anthropic.APITimeoutError as exc:  # not even the status line came
            raise ProviderError(
                f"{model}: Anthropic sent no answer within {self._timeout:g} s (timed out)"
            ) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderError(f"{model}: could not reach Anthropic ({exc})") from exc
        # Once the stream has begun, the transport's errors surface raw, a silent stream's
        # timeout without a message of its own: each says here what happened.
        except httpx2.TimeoutException as exc:
            raise ProviderError(
                f"{model}: Anthropic stopped sending before the answer finished "
                f"(no data for {self._timeout:g} s, timed out)"
            ) from exc
        except httpx2.TransportError as exc:
            raise ProviderError(
                f"{model}: the connection to Anthropic broke before the answer finished "
                f"({_described(exc)})"
            ) from exc
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise ProviderError(f"{model}: Anthropic failed: {_described(exc)}") from exc
        if not decoder.finished:
            raise ProviderError(
                f"{model}: Anthropic's stream ended before the answer finished (no message_stop)"
            )

    async def aclose(self) -> None:
        await self._client.close()


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message


class _Block:
    __slots__ = ("data", "parts", "type")

    def __init__(self, data: dict[str, Any]) -> None:
        self.type: str = data.get("type", "")
        self.data = data
        self.parts: list[str] = []


class _StreamDecoder:
    """Decodes one Messages stream (message_start … message_stop) into provider chunks."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._blocks: dict[int, _Block] = {}
        self._input_tokens = 0
        self._output_tokens = 0
        self._cached_tokens: int | None = None
        self.finished = False

    def line(self, line: bytes) -> list[ProviderChunk]:
        if not line.startswith(b"data:"):
            return []  # `event:` names repeat the data's `type`
        try:
            event = orjson.loads(line[5:])
        except orjson.JSONDecodeError as exc:
            raise ProviderError(f"{self._model}: Anthropic sent a malformed event") from exc
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "content_block_start":
            self._blocks[int(event.get("index", 0))] = _Block(event.get("content_block") or {})
        elif kind == "content_block_stop":
            block = self._blocks.pop(int(event.get("index", 0)), None)
            return self._finish(block) if block is not None else []
        elif kind == "message_start":
            usage = (event.get("message") or {}).get("usage") or {}
            self._input_tokens = sum(
                int(usage.get(k) or 0)
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            cached = usage.get("cache_read_input_tokens")
            self._cached_tokens = cached if isinstance(cached, int) else None
            self._output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "message_delta":
            usage = event.get("usage") or {}
            self._output_tokens = int(usage.get("output_tokens") or self._output_tokens)
        elif kind == "message_stop":
            self.finished = True
            return [Usage(self._input_tokens, self._output_tokens, self._cached_tokens)]
        elif kind == "error":
            error = event.get("error") or {}
            raise ProviderError(
                f"{self._model}: Anthropic reported {error.get('type', 'an error')}: "
                f"{_short(str(error.get('message', '')))}",
                status=529 if error.get("type") == "overloaded_error" else None,
            )
        return []

    def _delta(self, event: dict[str, Any]) -> list[ProviderChunk]:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(delta["text"])] if delta.get("text") else []
        block = self._blocks.get(int(event.get("index", 0)))
        if kind == "thinking_delta":
            if block is not None:
                block.parts.append(delta.get("thinking", ""))
            return [ReasoningDelta(delta["thinking"])] if delta.get("thinking") else []
        if block is None:
            return []
        if kind == "input_json_delta":
            block.parts.append(delta.get("partial_json", ""))
        elif kind == "signature_delta":
            block.data["signature"] = delta.get("signature", "")
        return []

    def _finish(self, block: _Block) -> list[ProviderChunk]:
        if block.type == "tool_use":
            raw = "".join(block.parts)
            return [
                ToolCallRequest(
                    call_id=str(block.data.get("id", "")),
                    name=str(block.data.get("name", "")),
                    arguments=_json_object(raw, block.data.get("input")),
                    raw_arguments=raw,
                )
            ]
        if block.type == "thinking":
            data = {**block.data, "thinking": block.data.get("thinking", "") + "".join(block.parts)}
            return [ReasoningBlock(data)]
        if block.type == "redacted_thinking":
            return [ReasoningBlock(dict(block.data))]
        return []


def _json_object(raw: str, start: Any) -> dict[str, Any] | None:
    if not raw.strip():
        return start if isinstance(start, dict) else {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _described(exc: BaseException) -> str:
    """The error's own words, or its kind when it has none (a bare error would say nothing)."""
    return _short(str(exc)) or type(exc).__name__


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
