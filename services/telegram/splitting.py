"""Splitting a formatted (or plain) answer into messages below Telegram's 4096-character limit.

Pure functions, no I/O. Never inside a tag or an entity; an element open at a break is closed at
the end of the chunk and reopened (same attributes) at the start of the next, so every chunk is
well-formed on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096  # characters of text after entities parsing
DEFAULT_LIMIT = 4000  # margin below the limit (Telegram counts differently in corner cases)

_ATOM = re.compile(r"<(/?)([a-zA-Z][\w-]*)([^<>]*)>|&(?:#\d+|#[xX][0-9a-fA-F]+|\w+);|[\s\S]")


@dataclass(frozen=True)
class _Atom:
    """An indivisible piece: one character, one HTML entity, or one whole tag."""

    raw: str
    tag: str = ""  # tag name for tags
    closing: bool = False
    visible: bool = True  # text (characters and entities) as opposed to tags


def _atoms(html: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for m in _ATOM.finditer(html):
        if m.group(2):
            atoms.append(_Atom(m.group(), m.group(2).lower(), bool(m.group(1)), visible=False))
        else:
            atoms.append(_Atom(m.group()))
    return atoms


# Break kinds, best first.
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = range(4)


def _break_kind(atoms: list[_Atom], i: int) -> int | None:
    """How good a place the whitespace atom at `i` is to end a chunk (None: not whitespace)."""
    raw = atoms[i].raw
    if raw == "\n":
        if i > 0 and atoms[i - 1].raw == "\n":
            return None  # inside a run of newlines: its first one is the place to break
        nxt = atoms[i + 1].raw if i + 1 < len(atoms) else ""
        return _PARAGRAPH if nxt == "\n" else _LINE
    if raw.isspace():
        prev = atoms[i - 1].raw if i > 0 else ""
        return _SENTENCE if prev in (".", "!", "?", "…", ":", ";") else _SPACE
    return None


def _split(atoms: list[_Atom], limit: int) -> list[str]:
    chunks: list[str] = []
    carried: list[_Atom] = []  # tags open at the start of the current chunk
    start, n = 0, len(atoms)
    while start < n:
        prefix = "".join(a.raw for a in carried)
        open_tags = list(carried)
        # cost = prefix + body so far + the closing tags it would need; it never decreases
        # (a closing tag in the body replaces the one we would have added), so scan until it
        # passes the limit, remembering the best place to end seen so far.
        cost = len(prefix) + sum(len(a.tag) + 3 for a in open_tags)
        best: dict[int, tuple[int, list[_Atom]]] = {}  # kind → (end index, tags open there)
        hard: tuple[int, list[_Atom]] | None = None
        has_text = False
        i = start
        while i < n and cost <= limit:
            a = atoms[i]
            # Not right after an opening tag: that would leave an empty element behind.
            if has_text and (atoms[i - 1].visible or atoms[i - 1].closing):
                hard = (i, list(open_tags))
                kind = _break_kind(atoms, i) if a.visible else None
                if kind is not None:
                    best[kind] = hard
            if a.visible:
                cost += len(a.raw)
                has_text = has_text or not a.raw.isspace()
            elif a.closing:
                if open_tags and open_tags[-1].tag == a.tag:
                    open_tags.pop()
                else:  # a stray closing tag: no tag of ours to stand in for
                    cost += len(a.raw)
            else:
                open_tags.append(a)
                cost += len(a.raw) + len(a.tag) + 3
            i += 1
        if i >= n and cost <= limit:  # the rest fits
            end, open_at_end, resume = n, open_tags, n
        else:
            floor = (limit - len(prefix)) // 4  # a break this early would waste a message
            order = (_PARAGRAPH, _LINE, _SENTENCE, _SPACE)
            choice = next(
                (best[k] for k in order if k in best and best[k][0] - start >= floor), None
            )
            choice = choice or next((best[k] for k in order if k in best), None) or hard
            if choice is None:
                raise ValueError(f"limit {limit} is too small for the markup around this text")
            end, open_at_end = choice
            resume = end
            if atoms[end].visible and atoms[end].raw.isspace():
                resume = end + 1  # the break itself is not repeated in either chunk
                if atoms[end].raw == "\n" and not any(t.tag == "pre" for t in open_at_end):
                    while resume < n and atoms[resume].raw == "\n":
                        resume += 1
        carried = list(open_at_end)
        while (
            resume < n
            and carried
            and atoms[resume].closing
            and atoms[resume].tag == carried[-1].tag
        ):  # an element that ends right at the break is not reopened empty
            carried.pop()
            resume += 1
        body = atoms[start:end]
        if not any(t.tag == "pre" for t in open_at_end):
            while body and body[-1].visible and body[-1].raw.isspace():
                body.pop()  # trailing blanks are invisible in Telegram anyway
        if any(a.visible and not a.raw.isspace() for a in body):
            tail = "".join(f"</{a.tag}>" for a in reversed(open_at_end))
            chunks.append(prefix + "".join(a.raw for a in body) + tail)
        start = resume
    return chunks


def split_message(html: str, limit: int = DEFAULT_LIMIT) -> list[str]:
    """Split Telegram HTML into chunks of at most `limit` characters, each well-formed alone.

    Breaks go at paragraph breaks, else line breaks, else sentence ends or spaces, else
    anywhere between characters — never inside a tag or an entity. Elements open at a break are
    closed at the end of the chunk and reopened (same attributes) at the start of the next, so a
    long code block continues as a code block. Chunks with no visible text are left out.
    """
    return _split(_atoms(html), limit)


def split_plain(text: str, limit: int = DEFAULT_LIMIT) -> list[str]:
    """Split plain text (no parse mode) the same way, into chunks of at most `limit`."""
    return _split([_Atom(c) for c in text], limit)
