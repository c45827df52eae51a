"""What the owner sends besides text: voice notes, photos and documents, turned into a chat.

- Voice notes and audio are transcribed by an OpenAI-compatible `/v1/audio/transcriptions`
  (through the `openai` SDK: OPENAI_API_KEY from the vault or the environment, OPENAI_BASE_URL
  honoured, as for chat), then sent as a chat with `voice: true`.
- Photos become an image input (a data URL) of the chat.
- Documents that are text (or PDF) are read within a size limit and put into the message.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

import openai
from pypdf import PdfReader
from pypdf.errors import PdfReadError

log = logging.getLogger("aion.telegram.media")

MAX_MESSAGE_CHARS = 32_000  # POST /api/chat's limit
TEXT_SUFFIXES = (
    ".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".yaml", ".yml", ".toml", ".ini",
    ".log", ".xml", ".html", ".htm", ".py", ".js", ".ts", ".sh", ".sql", ".rs", ".go", ".java",
    ".c", ".h", ".cpp", ".rb", ".php", ".css", ".env.example",
)  # fmt: skip
TEXT_TYPES = ("application/json", "application/xml", "application/x-yaml", "application/toml")


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


def is_readable(file_name: str, mime_type: str | None) -> bool:
    mime = (mime_type or "").lower()
    name = file_name.lower()
    return (
        mime.startswith("text/")
        or mime in TEXT_TYPES
        or mime == "application/pdf"
        or name.endswith((*TEXT_SUFFIXES, ".pdf"))
    )


def document_text(data: bytes, file_name: str, mime_type: str | None, max_chars: int) -> str:
    """The document's text, cut to `max_chars` (with a note when it was cut)."""
    if (mime_type or "").lower() == "application/pdf" or file_name.lower().endswith(".pdf"):
        text = _pdf_text(data)
    else:
        text = data.decode("utf-8", errors="replace")
    text = text.replace("\x00", "").strip()
    if not text:
        raise CannotRead(f"{file_name} has no text I can read.")
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[… cut: the first {max_chars} characters of {len(text)}]"
    return text


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise CannotRead("That PDF could not be read.") from exc


def document_message(caption: str | None, file_name: str, text: str) -> str:
    """The chat message for a document: the owner's caption, then the file's text, delimited."""
    head = (caption or "Here is a file.").strip()
    body = f"{head}\n\n--- {file_name} ---\n{text}\n--- end of {file_name} ---"
    return body[:MAX_MESSAGE_CHARS]
