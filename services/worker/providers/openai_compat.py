"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, OpenRouter, any base URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai

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
        try:
            stream = await self._client.chat.completions.create(
                model=request.model,
                messages=request.messages,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
                **request.options,
            )
            async with stream:
                async for chunk in stream:
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield TextDelta(choice.delta.content)
                    if chunk.usage is not None:
                        yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        except openai.APIStatusError as exc:
            raise ProviderError(
                f"{request.model}: the provider answered HTTP {exc.status_code}: "
                f"{_short(exc.message)}",
                status=exc.status_code,
            ) from exc
        except openai.APIConnectionError as exc:
            raise ProviderError(f"{request.model}: could not reach the provider ({exc})") from exc
        except (openai.APIError, httpx.HTTPError) as exc:
            # Includes a stream cut off half-way (the SDK lets httpx's error through).
            raise ProviderError(f"{request.model}: the provider failed: {_short(str(exc))}") from exc

    async def aclose(self) -> None:
        await self._client.close()


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
