"""The speech contract: formats, audio file names, and the tts service's request and answer.

The worker (client), the tts service (producer) and the api (which serves the files) import
these, so a name the tts service makes is exactly a name the api accepts.
"""

from __future__ import annotations

import re
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AudioFormat = Literal["wav", "mp3", "ogg"]
EngineName = Literal["espeak", "piper", "openai", "edge"]

# API.md: GET /api/audio/{filename}. `opus` is accepted as a name for Ogg Opus files too.
AUDIO_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}\.(mp3|wav|ogg|opus)$")
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "opus": "audio/ogg"}

MAX_TEXT_CHARS = 20_000  # about 25 minutes of speech: longer replies are cut before speaking
SYNTHESIZE_PATH = "/synthesize"


def new_file_name(fmt: AudioFormat) -> tuple[str, str]:
    """A fresh random id (22 URL-safe characters) and its file name."""
    audio_id = secrets.token_urlsafe(16)
    return audio_id, f"{audio_id}.{fmt}"


class SynthesizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    format: AudioFormat
    engine: EngineName | None = Field(default=None, description="default: the tts_engine setting")
    voice: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+:-]{0,99}$",
        description="engine-specific voice name; default: the tts_voice setting",
    )
    channel: str | None = Field(default=None, max_length=128)


class SynthesizeResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str  # the file name in the audio store, served as /api/audio/<file>
    format: AudioFormat
    duration: float  # seconds
    size: int  # bytes
    engine: EngineName  # the engine that spoke (differs from the asked one after a fallback)
    voice: str
    fallback: str | None = None  # why the asked engine was not used, when it was not


AUDIO_PATH_PREFIX = "/api/audio/"


def audio_url(file_name: str) -> str:
    return f"{AUDIO_PATH_PREFIX}{file_name}"
