"""espeak-ng: offline, many languages, tiny and fast; the fallback that is always there."""

from __future__ import annotations

import shutil
from typing import Literal

from services.tts.audio import AudioToolError, run_tool
from services.tts.engines.base import EngineFailed, EngineUnavailable


class EspeakEngine:
    name: Literal["espeak"] = "espeak"

    def __init__(self, timeout: float, binary: str = "espeak-ng") -> None:
        self._binary = binary
        self._timeout = timeout

    @property
    def default_voice(self) -> str:
        return "en-us"

    def unavailable_reason(self) -> str | None:
        return None if shutil.which(self._binary) else f"{self._binary} is not installed"

    async def synthesize(self, text: str, voice: str) -> bytes:
        # Text on stdin, never in argv: a reply starting with "-" is not an option.
        args = [self._binary, "--stdout", "-b", "1", "-v", voice]
        try:
            return await run_tool(args, text.encode(), self._timeout)
        except AudioToolError as exc:
            if "voice does not exist" in str(exc):
                raise EngineUnavailable(f"espeak-ng has no voice '{voice}'") from exc
            raise EngineFailed(str(exc)) from exc
