"""The tts service's environment settings (read once at start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from shared.service_settings import DatabaseSettings


class TTSSettings(DatabaseSettings):
    """Where it listens, where audio goes, and what each engine needs."""

    # Loopback by default: tts is internal. The image sets 0.0.0.0 so the worker can reach it.
    aion_tts_host: str = "127.0.0.1"
    aion_tts_port: int = Field(default=7100, ge=1, le=65535)
    # The credential its callers (the workers) present: nothing else may make it speak or list
    # its engines. Generated at first start in compose and `make dev` (shared/secret_files.py).
    aion_tts_token: SecretStr | None = Field(default=None, min_length=32)
    aion_audio_dir: Path = Path("/data/audio")
    # Extra piper voices: <name>.onnx with <name>.onnx.json beside it.
    aion_tts_voices_dir: Path = Path("/data/voices")
    # Syntheses at once (the rest wait): piper and ffmpeg are CPU-bound.
    aion_tts_concurrency: int = Field(default=2, ge=1, le=64)
    # Texts are spoken in pieces of at most this many characters, cut at sentence ends.
    aion_tts_chunk_chars: int = Field(default=600, ge=50, le=4000)
    aion_tts_timeout_seconds: float = Field(default=120.0, gt=0)
    aion_tts_openai_model: str = "gpt-4o-mini-tts"
    aion_db_pool_size: int = Field(default=4, ge=1)
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None

    @model_validator(mode="after")
    def _token_set(self) -> TTSSettings:
        if self.aion_tts_token is None:
            raise ValueError(
                "AION_TTS_TOKEN is not set: the tts service answers only callers holding it "
                "(compose and `make dev` generate one; elsewhere set 32 or more random characters)"
            )
        return self

    @property
    def token(self) -> SecretStr:
        assert self.aion_tts_token is not None  # checked above
        return self.aion_tts_token
