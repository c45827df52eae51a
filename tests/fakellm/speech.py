"""The fake's `POST /v1/audio/speech` (OpenAI text-to-speech), for the tts service's tests.

The audio is a tone, not speech, but it is real audio in the asked format's container: a WAV
of SECONDS_PER_CHAR seconds per input character, so a test can tell it heard the fake.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import Any

from . import wire

VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"}
)
SECONDS_PER_CHAR = 0.05
RATE = 24_000


def speech_reply(body: Any) -> tuple[int, bytes, bytes]:
    """(status, content type, body) for one request body, as OpenAI would answer it."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), str) or not body["input"]:
        return (
            400,
            b"application/json",
            wire.error_body(400, "Missing required parameter: 'input'."),
        )
    if not isinstance(body.get("model"), str):
        return 400, b"application/json", wire.error_body(400, "you must provide a model parameter")
    if body.get("voice") not in VOICES:
        message = f"Invalid value for 'voice': {body.get('voice')!r} is not a supported voice."
        return 400, b"application/json", wire.error_body(400, message, param="voice")
    if body.get("response_format", "mp3") != "wav":
        return 400, b"application/json", wire.error_body(400, "fakellm speaks only wav")
    return 200, b"audio/wav", tone_wav(len(body["input"]) * SECONDS_PER_CHAR)


def tone_wav(seconds: float, hz: float = 220.0) -> bytes:
    frames = int(seconds * RATE)
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / RATE)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()
