"""What every reader produces: segments of text with their page or heading, capped in size."""

from __future__ import annotations

import re
from typing import Any

_SPACES = re.compile(r"[ \t\f\v\r]+\n")
_BLANKS = re.compile(r"\n{3,}")


class Unreadable(Exception):
    """A file that cannot be read, said in words the owner can act on (the api answers 422)."""


def clean(text: str) -> str:
    """Text PostgreSQL can store (no NUL), without trailing spaces or runs of blank lines."""
    text = text.replace("\x00", "").replace("\r\n", "\n")
    return _BLANKS.sub("\n\n", _SPACES.sub("\n", text)).strip()


class Collector:
    """Segments in reading order; stops taking text past `max_chars` (`full` then says so, and
    readers stop early rather than parse what would be thrown away)."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.segments: list[dict[str, Any]] = []
        self.chars = 0
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.chars >= self.max_chars

    def add(self, text: str, *, page: int | None = None, heading: str | None = None) -> None:
        text = clean(text)
        if not text or self.full:
            self.truncated = self.truncated or bool(text)
            return
        room = self.max_chars - self.chars
        if len(text) > room:
            text, self.truncated = text[:room], True
        self.chars += len(text) + 2  # the blank line that joins segments
        heading = clean(heading)[:500] if heading else None
        self.segments.append({"text": text, "page": page, "heading": heading or None})

    def result(self, pages: int | None) -> dict[str, Any]:
        if not self.segments:
            raise Unreadable("The file contains no text AION can read.")
        return {"segments": self.segments, "pages": pages, "truncated": self.truncated}
