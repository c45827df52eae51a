"""The tts service's environment settings (read once at start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.config import BaseServiceSettings


class TTSSettings(BaseServiceSettings):
    """Where the internal HTTP server listens, and the audio store it writes to."""

    # Loopback by default: tts is internal. The image sets 0.0.0.0 so the worker can reach it.
    aion_tts_host: str = "127.0.0.1"
    aion_tts_port: int = Field(default=7100, ge=1, le=65535)
    aion_audio_dir: Path = Path("/data/audio")
