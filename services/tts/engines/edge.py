"""edge-tts: Microsoft Edge's online voices (needs internet, no key). Optional."""

from __future__ import annotations

import asyncio
from typing import Literal

from services.tts.engines.base import EngineFailed, EngineUnavailable

DEFAULT_VOICE = "en-US-AriaNeural"


class EdgeEngine:
    name: Literal["edge"] = "edge"

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        try:
            import edge_tts  # noqa: F401

            self._missing: str | None = None
        except ImportError:
            self._missing = "the edge-tts package is not installed"

    @property
    def default_voice(self) -> str:
        return DEFAULT_VOICE

    def unavailable_reason(self) -> str | None:
        return self._missing

    async def synthesize(self, text: str, voice: str) -> bytes:
        if self._missing:
            raise EngineUnavailable(self._missing)
        import edge_tts

        audio = bytearray()
        try:
            async with asyncio.timeout(self._timeout):
                communicate = edge_tts.Communicate(text, voice, connect_timeout=10)
                async for chunk in communicate.stream():
                    if chunk["type"] == "audio":
                        audio += chunk["data"]
        except ValueError as exc:  # edge-tts rejects malformed voice names this way
            raise EngineUnavailable(f"edge-tts has no voice '{voice}'") from exc
        except Exception as exc:  # aiohttp, websocket and edge-tts errors alike
            raise EngineFailed(f"edge-tts failed ({type(exc).__name__})") from exc
        if not audio:
            raise EngineFailed("edge-tts returned no audio")
        return bytes(audio)  # MP3
