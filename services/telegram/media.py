"""What the owner sends besides text: voice notes, photos and documents, turned into a chat.

- Voice notes and audio are transcribed by an OpenAI-compatible `/v1/audio/transcriptions`
  (through the `openai` SDK: OPENAI_API_KEY from the vault or the environment, OPENAI_BASE_URL
  honoured, as for chat), then sent as a chat with `voice: true`.
- Photos become an image input (a data URL) of the chat.
- Documents are uploaded to the api (POST /api/files), whose worker reads them in an isolated
  process, and the chat carries the file's id: this process never parses a document.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

import openai

log = logging.getLogger("aion.telegram.media")


class CannotRead(Exception):
    """The file is of a kind, size or shape AION does not take; the message says which."""


@dataclass(frozen=True, slots=True)
class Transcriber:
    """Speech to text through an OpenAI-compatible endpoint; `None` key: not configured."""

    api_key: str | None
    base_url: str | None
    model: str = "whisper-1"

    @property
    def available(self) -> bool:
        return bool(self.api_key)

    async def transcribe(self, audio: bytes, filename: str) -> str:
        if not self.api_key:
            raise CannotRead(
                "Voice notes need speech recognition: set OPENAI_API_KEY (POST /api/keys) for "
                "an OpenAI-compatible /v1/audio/transcriptions."
            )
        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, timeout=60)
        try:
            result = await client.audio.transcriptions.create(
                model=self.model, file=(filename, audio)
            )
        except openai.APIError as exc:
            log.warning("transcription failed: %s", type(exc).__name__)
            raise CannotRead("Sorry, I could not make out that voice note.") from exc
        finally:
            await client.close()
        text = (result.text or "").strip()
        if not text:
            raise CannotRead("I heard nothing in that voice note.")
        return text


def image_data_url(data: bytes, mime_type: str = "image/jpeg") -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode()}"
