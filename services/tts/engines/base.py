"""The one interface every speech engine implements, and how engines fail."""

from __future__ import annotations

from typing import Protocol

from shared.tts import EngineName


class EngineUnavailable(Exception):
    """The engine cannot speak here: no key, no voice model, package missing, unknown voice."""


class EngineFailed(Exception):
    """The engine was asked and failed (program error, service down, timeout)."""


class TTSEngine(Protocol):
    @property
    def name(self) -> EngineName: ...

    @property
    def default_voice(self) -> str: ...

    def unavailable_reason(self) -> str | None:
        """None when the engine can be used, otherwise why not (said once per request)."""
        ...

    async def synthesize(self, text: str, voice: str) -> bytes:
        """One piece of text as audio in any container ffmpeg can decode (WAV, MP3, ...).

        Raises EngineUnavailable for a voice it does not have, EngineFailed otherwise."""
        ...
