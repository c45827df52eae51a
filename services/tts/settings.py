"""The tts service's environment settings (read once at start)."""

from __future__ import annotations

from pydantic import Field

from shared.config import BaseServiceSettings


class TTSSettings(BaseServiceSettings):
    """Where the internal HTTP server listens."""

    # Loopback by default: tts is internal. The image sets 0.0.0.0 so the worker can reach it.
    aion_tts_host: str = "127.0.0.1"
    aion_tts_port: int = Field(default=7100, ge=1, le=65535)
