"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, OpenRouter, any base URL).

The SDK makes the request (auth, base URL, retries before the stream starts, status errors)
through its generic `post`, without its per-request transform of the typed params; the
stream's `data:` lines are decoded here with orjson. Building the SDK's pydantic object for
every chunk costs far more CPU than the rest of a turn, and the worker streams many turns at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import orjson

from services.worker.providers.base import (
    ProviderChunk,
    ProviderError,
    ProviderRequest,
    ReasoningDelta,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
    Usage,
)
from services.worker.providers.http_client import (
    DEFAULT_TRANSPORT,
    Transport,
    decoded_chunks,
    openai_http_client,
)
from shared.providers import is_reasoning_model

# The thinking level as OpenAI-style `reasoning_effort` (no level is "none" on every model).
EFFORT = {"minimal": "low", "standard": "medium", "deep": "high"}
# Sampling options reasoning models refuse.
_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs")


class OpenAICompatibleProvider:
    """`flavor` is the provider id of shared/providers.py: it decides which reasoning knobs the
    endpoint understands (OpenAI's o-series and gpt-5, Gemini's reasoning_effort)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        flavor: str = "openai",
        send_cache_key: bool = False,
        transport: Transport = DEFAULT_TRANSPORT,
    ) -> None:
        self.name = flavor
        self._flavor = flavor
        # `prompt_cache_key` is OpenAI's field; other servers may refuse unknown fields, so it
        # goes only where the router says it is understood (AION_PROMPT_CACHE_KEY).
        self._send_cache_key = send_cache_key
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=openai_http_client(transport, timeout),
        )

    def build_body(self, request: ProviderRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": chat_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            **request.options,
        }
        if self._send_cache_key and request.cache_key:
            body["prompt_cache_key"] = request.cache_key
        if self._flavor == "openai" and is_reasoning_model(request.model):
            for option in _SAMPLING:
                body.pop(option, None)
            if "max_tokens" in body:
                body["max_completion_tokens"] = body.pop("max_tokens")
            if request.thinking in EFFORT:
                body.setdefault("reasoning_effort", EFFORT[request.thinking])
        elif self._flavor == "gemini" and request.thinking in EFFORT:
            body.setdefault("reasoning_effort", EFFORT[request.thinking])
        return body

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        body = self.build_body(request)
        if request.tools:
            body["tools"] = [_tool_schema(tool) for tool in request.tools]
        decoder = _StreamDecoder(request.model)
        try:
            # The SDK's generic `post` (auth, base URL, retries, status errors) with our body
            # as is: `chat.completions.create` first walks the whole body against its typed
            # params, which costs more CPU than the rest of the turn once there are tools and
            # history (~80% of a worker's time in bench/tool_overhead.py). Our body is wire
            # format already, and goes as bytes encoded by orjson (the SDK would use json).
            response = await self._client.post(
                "/chat/completions",
                cast_to=httpx2.Response,
                content=orjson.dumps(body),
                stream=True,
            )
            try:
                async for chunk in decoded_chunks(response, decoder, request.read_window):
                    yield chunk
            finally:
                await response.aclose()
            for call in decoder.tool_calls():
                yield call
        except openai.APIStatusError as exc:
            raise ProviderError(
                f"{request.model}: the provider answered HTTP {exc.status_code}: "
                f"{_short(exc.message)}",
                status=exc.status_code,
            ) from exc
        except openai.APIConnectionError as exc:
            raise ProviderError(f"{request.model}: could not reach the provider ({exc})") from exc
        except httpx2.TimeoutException as exc:
            # A stream that went silent half-way (its error has no message of its own).
            message = f"{request.model}: the provider stopped sending mid-answer (timed out)"
            raise ProviderError(message) from exc
        except (openai.APIError, httpx2.HTTPError) as exc:
            # httpx2 (the SDK's transport) errors surface raw when a stream is cut off half-way.
            message = f"{request.model}: the provider failed: {_short(str(exc))}"
            raise ProviderError(message) from exc

    async def aclose(self) -> None:
        await self._client.close()


def chat_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The canonical messages as Chat Completions takes them: other providers' reasoning
    records dropped. The list itself is passed on when there is nothing to drop (most turns)."""
    if not any("reasoning_blocks" in m for m in messages):
        return messages
    return [
        {k: v for k, v in m.items() if k != "reasoning_blocks"} if "reasoning_blocks" in m else m
        for m in messages
    ]


def _tool_schema(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


class _PartialCall:
    __slots__ = ("arguments", "call_id", "name")

    def __init__(self) -> None:
        self.call_id = ""
        self.name = ""
        self.arguments: list[str] = []


class _StreamDecoder:
    """Decodes one chat.completion.chunk stream: text and reasoning deltas go out as they come,
    tool calls (streamed in pieces, keyed by index) are assembled and handed out at the end."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._calls: dict[int, _PartialCall] = {}
        self.finished = False  # the answer is complete: a choice's `finish_reason`, or `[DONE]`

    def line(self, line: bytes) -> list[ProviderChunk]:
        if not line.startswith(b"data:"):
            return []  # blank separators, comments, `event:` lines
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.finished = True
            return []
        if not payload:
            return []
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise ProviderError(
                f"{self._model}: the provider sent a malformed stream chunk"
            ) from exc
        if not isinstance(data, dict):
            return []
        if "error" in data:
            error = data["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise ProviderError(
                f"{self._model}: the provider reported an error: {_short(str(message))}"
            )
        chunks: list[ProviderChunk] = []
        for choice in data.get("choices") or ():
            if choice.get("finish_reason"):
                self.finished = True  # what follows (usage, `[DONE]`) comes right after
            delta = choice.get("delta") or {}
            # DeepSeek and vLLM send `reasoning_content`, OpenRouter and Ollama `reasoning`.
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                chunks.append(ReasoningDelta(reasoning))
            text = delta.get("content")
            if text:
                chunks.append(TextDelta(text))
            for piece in delta.get("tool_calls") or ():
                self._add_call_piece(piece)
        usage = data.get("usage")
        if usage:
            details = usage.get("prompt_tokens_details")
            cached = details.get("cached_tokens") if isinstance(details, dict) else None
            chunks.append(
                Usage(
                    usage.get("prompt_tokens", 0),
                    usage.get("completion_tokens", 0),
                    cached if isinstance(cached, int) else None,
                )
            )
        return chunks

    def _add_call_piece(self, piece: dict[str, Any]) -> None:
        call = self._calls.setdefault(int(piece.get("index") or 0), _PartialCall())
        call.call_id = call.call_id or piece.get("id") or ""
        function = piece.get("function") or {}
        call.name += function.get("name") or ""
        if function.get("arguments"):
            call.arguments.append(function["arguments"])

    def tool_calls(self) -> list[ToolCallRequest]:
        calls = []
        for index in sorted(self._calls):
            call = self._calls[index]
            raw = "".join(call.arguments)
            calls.append(
                ToolCallRequest(
                    call_id=call.call_id or f"call_{index}",
                    name=call.name,
                    arguments=_json_object(raw),
                    raw_arguments=raw,
                )
            )
        return calls


def _json_object(raw: str) -> dict[str, Any] | None:
    if not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
