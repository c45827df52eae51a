"""Text before speech: Markdown a listener should not hear, and pieces cut at sentence ends."""

from __future__ import annotations

import re

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.S)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_MARKUP = re.compile(r"(\*\*|__|~~|`|^#{1,6}\s+|^\s*[-*+]\s+|^\s*>\s?)", re.M)
_SENTENCE_END = re.compile("(?<=[.!?\u2026\u3002\uff01\uff1f])[\"')\\]]*\\s+")
_CLAUSE_END = re.compile("(?<=[,;:\u2013\u2014])\\s+")
_SPACES = re.compile(r"[ \t]+")


def speakable(text: str) -> str:
    """The reply as it should sound: no code listings, link targets or Markdown symbols."""
    text = _CODE_BLOCK.sub(" (code omitted) ", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("(link)", text)
    text = _MARKUP.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def split_text(text: str, max_chars: int) -> list[str]:
    """Pieces of at most `max_chars`, cut after sentence ends; an overlong sentence is cut at
    clause marks, then at spaces, and only a run without spaces at an arbitrary character."""
    pieces: list[str] = []
    current = ""
    for sentence in _sentences(text):
        for part in _fit(sentence, max_chars):
            if current and len(current) + 1 + len(part) > max_chars:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.split("\n"):
        out += [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]
    return out


def _fit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    for splitter in (_CLAUSE_END, re.compile(r"\s+")):
        parts = [p for p in splitter.split(sentence) if p]
        if len(parts) > 1:
            return _pack(parts, max_chars)
    return [sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars)]


def _pack(parts: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for part in parts:
        if len(part) > max_chars:
            if current:
                out.append(current)
                current = ""
            out += _fit(part, max_chars)
        elif current and len(current) + 1 + len(part) > max_chars:
            out.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    if current:
        out.append(current)
    return out
