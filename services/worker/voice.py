"""Spoken replies: the tts service speaks a text, the turn's `done` gets an audio block.

`speak` is the one call for anything that wants speech (spoken replies now, a `speak(text)`
tool of the voice plugin later); `spoken_reply` is the turn's use of it. Speech is an extra:
when it fails, the text answer still goes out and a `thought` says why there is no audio.
"""

from __future__ import annotations

import logging
import re

import httpx
import pydantic

from services.worker.context import WorkerContext
from services.worker.emitter import TurnEmitter
from shared.events import AudioBlock, ThoughtEvent
from shared.jobs import TurnJob
from shared.tts import (
    MAX_TEXT_CHARS,
    SYNTHESIZE_PATH,
    AudioFormat,
    SynthesizeRequest,
    SynthesizeResult,
    audio_url,
)

log = logging.getLogger("aion.worker.voice")

_LAST_SENTENCE_END = re.compile(r".*[.!?…](?=\s)", re.S)


class SpeechError(Exception):
    """The text could not be spoken; the message is fit for the owner to read."""


def format_for(channel: str) -> AudioFormat:
    """Telegram voice notes must be Ogg Opus; MP3 plays everywhere else."""
    return "ogg" if channel.startswith("telegram") else "mp3"


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """At most `limit` characters, ending at a sentence end when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    match = _LAST_SENTENCE_END.match(head)
    return match.group(0) if match else head


async def speak(
    app: WorkerContext,
    text: str,
    channel: str | None = None,
    *,
    fmt: AudioFormat | None = None,
    engine: str | None = None,
    voice: str | None = None,
) -> SynthesizeResult:
    """Have the tts service speak `text` into the audio store (engine and voice default to
    the owner's settings). Raises SpeechError."""
    try:
        request = SynthesizeRequest.model_validate(
            {
                "text": clip(text),
                "format": fmt or format_for(channel or ""),
                "engine": engine,
                "voice": voice,
                "channel": channel,
            }
        )
    except pydantic.ValidationError as exc:
        raise SpeechError(f"the request was not valid ({exc.errors()[0]['msg']})") from exc
    try:
        response = await app.tts.post(
            SYNTHESIZE_PATH,
            content=request.model_dump_json(exclude_none=True),
            headers={"Content-Type": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise SpeechError(f"the tts service is unreachable ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise SpeechError(f"the tts service answered {response.status_code}: {_detail(response)}")
    try:
        return SynthesizeResult.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise SpeechError("the tts service gave an answer AION does not understand") from exc


async def spoken_reply(
    app: WorkerContext, turn: TurnJob, text: str, emitter: TurnEmitter
) -> AudioBlock | None:
    """The reply as audio for `done`, or None (and a `thought` saying why)."""
    if not text.strip():
        return None
    owner_settings = (await app.owner_config.get()).owner_settings
    if owner_settings.tts_engine == "off":
        await _note(emitter, "The reply was not spoken: speech is turned off (tts_engine).")
        return None
    try:
        result = await speak(app, text, turn.channel)
    except SpeechError as exc:
        log.warning("reply not spoken: %s", exc, extra={"turn_id": turn.turn_id})
        await _note(emitter, f"The reply could not be spoken: {exc}.")
        return None
    if result.fallback:
        await _note(emitter, f"Spoken with {result.engine} instead ({result.fallback}).")
    if len(text) > MAX_TEXT_CHARS:
        await _note(emitter, f"Only the first {MAX_TEXT_CHARS} characters were spoken.")
    return AudioBlock(url=audio_url(result.file), format=result.format)


async def _note(emitter: TurnEmitter, text: str) -> None:
    await emitter.emit(ThoughtEvent(text=text, trigger="tts"))


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail)[:300] if detail else response.reason_phrase
