"""The fake's `POST /v1/audio/transcriptions` (OpenAI speech to text), for the telegram tests.

The fake cannot hear. A test that wants a transcript hides it in the audio: a metadata text
`TRANSCRIPT:<what was said>;;` (e.g. an Ogg/Opus comment written by ffmpeg); that is what the
fake "hears". Audio without one is heard as NOTHING_HEARD. The request must be multipart with a
`file` and a `model` part, as the openai SDK sends it.
"""

from __future__ import annotations

import re

import orjson

from . import wire

MARKER = re.compile(rb"TRANSCRIPT:(.{1,2000}?);;", re.DOTALL)
NOTHING_HEARD = "(inaudible)"


def transcription_reply(content_type: str, body: bytes) -> tuple[int, bytes]:
    """(status, JSON body) as OpenAI would answer it."""
    if not content_type.startswith("multipart/form-data"):
        return 400, wire.error_body(400, "Expected a multipart/form-data request.")
    if b'name="file"' not in body:
        return 400, wire.error_body(400, "Missing required parameter: 'file'.")
    if b'name="model"' not in body:
        return 400, wire.error_body(400, "Missing required parameter: 'model'.")
    found = MARKER.search(body)
    text = found.group(1).decode("utf-8", errors="replace") if found else NOTHING_HEARD
    return 200, orjson.dumps({"text": text})
