"""An answer made for listening: Markdown gone, cut at a sentence, escaped for SSML.

AION answers in Markdown for screens. Alexa reads SSML aloud, where a stray `<` or `&` breaks the
whole response and `**` or a URL is noise. The speech keeps the first sentences (about half a
minute of listening); the card in the Alexa app carries the whole answer as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_SPOKEN_CHARS = 500  # about 30 seconds of Alexa's voice
MAX_CARD_CHARS = 7500  # Alexa allows 8000 characters for a card's title and content together
MORE_ON_CARD = "The full answer is on the card in your Alexa app."

_markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"[ \t]+")
_ENTITIES = {'"': "&quot;", "'": "&apos;"}


def _inline(children: Sequence[Token], spoken: bool) -> str:
    parts: list[str] = []
    in_autolink = False
    for token in children:
        if token.type == "link_open" and token.markup == "autolink":
            in_autolink = True
            parts.append("a link" if spoken else "")
        elif token.type == "link_close":
            in_autolink = False
        elif in_autolink and spoken:
            continue
        elif token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type == "image":
            parts.append(_inline(token.children or [], spoken))
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" " if spoken else "\n")
    return "".join(parts)


def plain_text(markdown: str, *, spoken: bool) -> str:
    """The text of a Markdown answer, one line per block; code only when it is not spoken."""
    lines: list[str] = []
    row: list[str] | None = None
    for token in _markdown.parse(markdown):
        if token.type == "inline":
            text = _inline(token.children or [], spoken)
            if row is not None:
                row.append(text)
            else:
                lines.append(text)
        elif token.type in ("fence", "code_block"):
            lines.append("There is some code on the card." if spoken else token.content.rstrip())
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            lines.append(", ".join(cell for cell in row if cell.strip()))
            row = None
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in lines if line.strip())
    return _NOT_XML.sub("", text)


def _as_speech(text: str) -> str:
    """Lines become sentences, so Alexa pauses between list items and headings."""
    sentences = []
    for line in text.splitlines():
        line = _URL.sub("a link", line).strip()
        if line:
            sentences.append(line if line[-1] in ".!?:;…" else line + ".")
    return " ".join(sentences)


def shorten(text: str, limit: int = MAX_SPOKEN_CHARS) -> tuple[str, bool]:
    """At most `limit` characters, cut after a whole sentence (or a word, if one sentence is
    longer); True when something was left out."""
    if len(text) <= limit:
        return text, False
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if not kept:  # the first sentence alone is too long: end at a word
        kept = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-") + "."
    return kept, True


def ssml(text: str) -> str:
    """Plain text as an SSML document, with XML's special characters escaped."""
    return f"<speak>{escape(text, _ENTITIES)}</speak>"


def speech_text(markdown: str) -> str:
    """The plain text to say for an answer written in Markdown, cut to about half a minute."""
    speech, cut = shorten(_as_speech(plain_text(markdown, spoken=True)))
    return f"{speech} {MORE_ON_CARD}" if cut else speech


def fit_card(text: str, limit: int = MAX_CARD_CHARS) -> str:
    """`text` cut to what a card holds."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def spoken(markdown: str) -> tuple[str, str]:
    """(SSML to say, plain text for the card) for an answer written in Markdown."""
    return ssml(speech_text(markdown)), fit_card(plain_text(markdown, spoken=False))
