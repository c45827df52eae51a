"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, OpenRouter, any base URL).

The SDK makes the request (auth, base URL, retries before the stream starts, status errors);
the stream's `data:` lines are decoded here with orjson. Building the SDK's pydantic object for
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
    TextDelta,
    Usage,
)


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self, *, api_key: str, base_url: str | None, timeout: float, max_retries: int
    ) -> None:
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            **request.options,
        }
        try:
            async with self._client.chat.completions.with_streaming_response.create(
                **body
            ) as response:
                async for line in response.iter_lines():
                    for chunk in _decode_line(line, request.model):
                        yield chunk
        except openai.APIStatusError as exc:
            raise ProviderError(
                f"{request.model}: the provider answered HTTP {exc.status_code}: "
                f"{_short(exc.message)}",
                status=exc.status_code,
            ) from exc
        except openai.APIConnectionError as exc:
            raise ProviderError(f"{request.model}: could not reach the provider ({exc})") from exc
        except (openai.APIError, httpx2.HTTPError) as exc:
            # httpx2 (the SDK's transport) errors surface raw when a stream is cut off half-way.
            message = f"{request.model}: the provider failed: {_short(str(exc))}"
            raise ProviderError(message) from exc

    async def aclose(self) -> None:
        await self._client.close()


def _decode_line(line: str, model: str) -> list[ProviderChunk]:
    """One SSE line of a chat.completion.chunk stream → text deltas and usage."""
    if not line.startswith("data:"):
        return []  # blank separators, comments, `event:` lines
    payload = line[5:].strip()
    if not payload or payload == "[DONE]":
        return []
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(f"{model}: the provider sent a malformed stream chunk") from exc
    if not isinstance(data, dict):
        return []
    if "error" in data:
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ProviderError(f"{model}: the provider reported an error: {_short(str(message))}")
    chunks: list[ProviderChunk] = []
    for choice in data.get("choices") or ():
        text = (choice.get("delta") or {}).get("content")
        if text:
            chunks.append(TextDelta(text))
    usage = data.get("usage")
    if usage:
        chunks.append(Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)))
    return chunks


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
