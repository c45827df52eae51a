"""The speech engines behind one `TTSEngine` protocol; `build_engines` makes all of them."""

from __future__ import annotations

from services.tts.engines.base import EngineFailed, EngineUnavailable, TTSEngine
from services.tts.engines.edge import EdgeEngine
from services.tts.engines.espeak import EspeakEngine
from services.tts.engines.openai import OpenAIEngine
from services.tts.engines.piper import PiperEngine
from services.tts.settings import TTSSettings
from shared.tts import EngineName

__all__ = ["EngineFailed", "EngineUnavailable", "TTSEngine", "build_engines"]


def build_engines(settings: TTSSettings) -> dict[EngineName, TTSEngine]:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    timeout = settings.aion_tts_timeout_seconds
    return {
        "espeak": EspeakEngine(timeout),
        "piper": PiperEngine(settings.aion_tts_voices_dir),
        "openai": OpenAIEngine(
            key, settings.openai_base_url, settings.aion_tts_openai_model, timeout
        ),
        "edge": EdgeEngine(timeout),
    }
