"""OpenAI text-to-speech (or any server speaking its /audio/speech API via OPENAI_BASE_URL)."""

from __future__ import annotations

from typing import Literal

import openai

from services.tts.engines.base import EngineFailed, EngineUnavailable

# The voices OpenAI documents; a compatible server may know others, so they are not enforced.
DEFAULT_VOICE = "alloy"


class OpenAIEngine:
    name: Literal["openai"] = "openai"

    def __init__(
        self, api_key: str | None, base_url: str | None, model: str, timeout: float
    ) -> None:
        self._model = model
        self._client = (
            openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1)
            if api_key
            else None
        )

    @property
    def default_voice(self) -> str:
        return DEFAULT_VOICE

    def unavailable_reason(self) -> str | None:
        return None if self._client else "OPENAI_API_KEY is not set"

    async def synthesize(self, text: str, voice: str) -> bytes:
        if self._client is None:
            raise EngineUnavailable("OPENAI_API_KEY is not set")
        try:
            response = await self._client.audio.speech.create(
                model=self._model, voice=voice, input=text, response_format="wav"
            )
        except openai.APIStatusError as exc:
            if exc.status_code in (400, 404, 422) and "voice" in str(exc.message).lower():
                raise EngineUnavailable(f"OpenAI has no voice '{voice}'") from exc
            raise EngineFailed(f"OpenAI TTS answered {exc.status_code}") from exc
        except openai.APIError as exc:
            raise EngineFailed(f"OpenAI TTS failed: {type(exc).__name__}") from exc
        return response.content

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
