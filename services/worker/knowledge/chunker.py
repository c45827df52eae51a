"""Splits a file's extracted segments into chunks to embed, each citing its page and heading.

A chunk never spans two sections (a run of segments with the same page and heading), so its
page and heading are exactly where its text is. Within a section, text is packed up to
TARGET_CHARS from whole paragraphs, else whole sentences, else runs of words; the next chunk
starts with the last OVERLAP_CHARS or so of the previous one (whole pieces), so a sentence cut
off from its context is still found with it. TARGET_CHARS (~250 tokens of English) stays under
the local model's 256-token window, so nothing a chunk says is cut off from its vector.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TARGET_CHARS = 1000
OVERLAP_CHARS = 150
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+(?=\S)")
_SPACES = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    page: int | None
    heading: str | None
    text: str

    def embedding_text(self) -> str:
        """What is embedded: the heading gives a short chunk the context it lacks."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    joiner: str  # what goes between it and the piece before it in one chunk


def sections(segments: Iterable[Mapping[str, Any]]) -> list[tuple[int | None, str | None, str]]:
    """Consecutive segments with the same page and heading, their texts joined."""
    out: list[tuple[int | None, str | None, list[str]]] = []
    for segment in segments:
        text = str(segment.get("text") or "").strip()
        if not text:
            continue
        page = segment.get("page")
        page = page if isinstance(page, int) and page >= 1 else None
        heading = str(segment.get("heading") or "").strip() or None
        if out and out[-1][0] == page and out[-1][1] == heading:
            out[-1][2].append(text)
        else:
            out.append((page, heading, [text]))
    return [(page, heading, "\n\n".join(texts)) for page, heading, texts in out]


def _split(text: str, limit: int, joiner: str) -> list[_Piece]:
    """Pieces of at most `limit` characters: paragraphs, else sentences, else word runs."""
    pieces: list[_Piece] = []
    for p_index, paragraph in enumerate(_PARAGRAPH.split(text)):
        paragraph = _SPACES.sub(" ", paragraph).strip()
        if not paragraph:
            continue
        first = joiner if p_index == 0 or not pieces else "\n\n"
        if len(paragraph) <= limit:
            pieces.append(_Piece(paragraph, first))
            continue
        for s_index, sentence in enumerate(_SENTENCE_END.split(paragraph)):
            sep = first if s_index == 0 else " "
            if len(sentence) <= limit:
                pieces.append(_Piece(sentence, sep))
            else:
                pieces += _words(sentence, limit, sep)
    return pieces


def _words(sentence: str, limit: int, joiner: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:  # no space to break at (a hash, a URL): cut it
            if current:
                pieces.append(_Piece(current, joiner if not pieces else " "))
                current = ""
            pieces.append(_Piece(word[:limit], joiner if not pieces else " "))
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(_Piece(current, joiner if not pieces else " "))
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(_Piece(current, joiner if not pieces else " "))
    return pieces


def _pack(pieces: list[_Piece], target: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    current: list[_Piece] = []
    size = 0
    fresh = False  # holds a piece the last chunk did not (not only the overlap)
    for piece in pieces:
        if current and fresh and size + len(piece.joiner) + len(piece.text) > target:
            chunks.append(_join(current))
            kept: list[_Piece] = []
            kept_size = 0
            for old in reversed(current):
                if kept_size + len(old.text) > overlap:
                    break
                kept.insert(0, old)
                kept_size += len(old.text) + len(old.joiner)
            current, size, fresh = kept, kept_size, False
        current.append(piece)
        size += len(piece.joiner) + len(piece.text)
        fresh = True
    if current and fresh:
        chunks.append(_join(current))
    return chunks


def _join(pieces: list[_Piece]) -> str:
    return "".join((p.joiner if i else "") + p.text for i, p in enumerate(pieces))


def chunk(
    segments: Iterable[Mapping[str, Any]],
    *,
    target: int = TARGET_CHARS,
    overlap: int = OVERLAP_CHARS,
) -> list[Chunk]:
    """The segments' chunks in reading order, numbered from 0."""
    if not 0 <= overlap < target // 2:
        raise ValueError("overlap must be under half the target")
    out: list[Chunk] = []
    for page, heading, text in sections(segments):
        # Pieces fit beside the overlap, so every chunk stays within `target`.
        for content in _pack(_split(text, target - overlap, ""), target, overlap):
            out.append(Chunk(len(out), page, heading, content))
    return out
