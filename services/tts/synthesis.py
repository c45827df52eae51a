"""POST /synthesize: pick the engine and voice, speak the text in pieces, store the result.

The engine is the request's or the owner's `tts_engine` setting (read from PostgreSQL on each
request, so a change applies at once). When the chosen engine cannot speak (no key, no voice
model, service down), espeak-ng speaks instead and the answer says why in `fallback`.
"""

from __future__ import annotations

import logging
import time

from services.tts.audio import PIECE_GAP, AudioToolError, to_pcm
from services.tts.context import TTSContext
from services.tts.engines import EngineFailed, EngineUnavailable, TTSEngine
from services.tts.errors import NothingToSay, SpeechFailed, SpeechOff, UnknownVoice
from services.tts.store import store
from services.tts.text import speakable, split_text
from shared import metrics
from shared.db import settings as settings_repo
from shared.tts import EngineName, SynthesizeRequest, SynthesizeResult

log = logging.getLogger("aion.tts")

FALLBACK: EngineName = "espeak"


async def synthesize(ctx: TTSContext, request: SynthesizeRequest) -> SynthesizeResult:
    engine_name, voice = await _choose(ctx, request)
    pieces = split_text(speakable(request.text), ctx.settings.aion_tts_chunk_chars)
    if not pieces:
        raise NothingToSay("text: nothing speakable is left once markup is removed")
    async with ctx.slots:
        started = time.perf_counter()
        engine = ctx.engines[engine_name]
        fallback: str | None = None
        try:
            pcm = await _speak(ctx, engine, voice or engine.default_voice, pieces)
        except (EngineUnavailable, EngineFailed) as exc:
            if engine_name == FALLBACK:
                raise _as_http_error(exc) from exc
            fallback = f"{engine_name}: {exc}"
            log.warning("speaking with %s instead: %s", FALLBACK, fallback)
            engine = ctx.engines[FALLBACK]
            voice = ""
            try:
                pcm = await _speak(ctx, engine, engine.default_voice, pieces)
            except (EngineUnavailable, EngineFailed) as second:
                raise SpeechFailed(f"{fallback}; {FALLBACK}: {second}") from second
        metrics.tts_synthesis(engine.name, time.perf_counter() - started)
        return await store(
            ctx,
            pcm,
            request.format,
            engine=engine.name,
            voice=voice or engine.default_voice,
            channel=request.channel,
            fallback=fallback,
        )


async def _choose(ctx: TTSContext, request: SynthesizeRequest) -> tuple[EngineName, str]:
    """The engine and voice to try first ("" = the engine's default voice)."""
    async with ctx.pool.connection() as conn:
        owner_settings = (await settings_repo.load_settings(conn)).owner_settings
    if request.engine is not None:
        same = request.engine == owner_settings.tts_engine
        return request.engine, request.voice or (owner_settings.tts_voice if same else "")
    if owner_settings.tts_engine == "off":
        raise SpeechOff("Speech is turned off (setting tts_engine is 'off').")
    return owner_settings.tts_engine, request.voice or owner_settings.tts_voice


async def _speak(ctx: TTSContext, engine: TTSEngine, voice: str, pieces: list[str]) -> bytes:
    reason = engine.unavailable_reason()
    if reason is not None:
        raise EngineUnavailable(reason)
    timeout = ctx.settings.aion_tts_timeout_seconds
    parts: list[bytes] = []
    for piece in pieces:
        audio = await engine.synthesize(piece, voice)
        try:
            parts.append(await to_pcm(audio, timeout))
        except AudioToolError as exc:
            raise EngineFailed(f"{engine.name} gave audio ffmpeg cannot read ({exc})") from exc
    return PIECE_GAP.join(parts)


def _as_http_error(exc: Exception) -> Exception:
    if isinstance(exc, EngineUnavailable) and "voice" in str(exc):
        return UnknownVoice(f"voice: {exc}")
    return SpeechFailed(f"{FALLBACK}: {exc}")
