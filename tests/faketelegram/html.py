"""Telegram's HTML parse mode, checked the way the Bot API does: supported tags only, properly
nested and closed, only the entities it knows. Gives the text left after parsing.

Used by the fake server (400 "can't parse entities") and by the formatting tests, which check
every chunk they produce with it.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.faketelegram.wire import utf16_len

# Tag name → attributes Telegram accepts on it.
TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_NAMED = {"lt", "gt", "amp", "quot"}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ATTR = re.compile(r"([\w-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[a-zA-Z]\w*);")


class EntityError(ValueError):
    """The text is not valid Telegram HTML; the message reads like Telegram's."""


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode())  # Telegram reports UTF-8 byte offsets


_KIND = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _attrs(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): unescape((m.group(2) or "").strip("\"'")) for m in _ATTR.finditer(raw)
    }


def parse_html(text: str) -> str:
    """Validate `text` as Telegram HTML and return its visible text (tags gone, entities
    decoded). Raises EntityError with Telegram's wording for what it rejects."""
    return parse_entities(text)[0]


def parse_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Validate `text` and return its visible text and MessageEntity objects (UTF-16 offsets)."""
    stack: list[tuple[str, int, dict[str, str], int]] = []  # name, position, attrs, offset
    plain: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "<":
            m = _TAG.match(text, i)
            if m is None:
                raise EntityError(f"Unsupported start tag at byte offset {_offset(text, i)}")
            closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
            if closing:
                if attrs.strip():
                    raise EntityError(f"Unexpected end tag at byte offset {_offset(text, i)}")
                if not stack:
                    raise EntityError(f"Unexpected end tag at byte offset {_offset(text, i)}")
                if stack[-1][0] != name:
                    raise EntityError(
                        f'Unmatched end tag at byte offset {_offset(text, i)}, expected "</'
                        f'{stack[-1][0]}>", found "</{name}>"'
                    )
                _, _, attrs_at, start = stack.pop()
                entity = _entity(name, attrs_at, start, offset, stack)
                if entity is not None:
                    entities.append(entity)
            else:
                if name not in TAGS:
                    raise EntityError(
                        f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}'
                    )
                for am in _ATTR.finditer(attrs):
                    if am.group(1).lower() not in TAGS[name]:
                        raise EntityError(
                            f'Unsupported attribute "{am.group(1)}" in start tag "{name}"'
                        )
                if name in ("code", "pre") and stack and stack[-1][0] == "code":
                    raise EntityError("Can't parse entities inside a code entity")
                stack.append((name, i, _attrs(attrs), offset))
            i = m.end()
        elif c == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                plain.append("&")  # a lone ampersand is taken literally, as Telegram does
                offset += 1
                i += 1
                continue
            body = m.group(1)
            if not body.startswith("#") and body not in _NAMED:
                raise EntityError(
                    f'Unsupported HTML entity "&{body};" at byte offset {_offset(text, i)}'
                )
            plain.append(unescape(m.group()))
            offset += utf16_len(plain[-1])
            i = m.end()
        elif c == ">":
            plain.append(c)
            offset += 1
            i += 1
        else:
            j = i
            while j < n and text[j] not in "<&>":
                j += 1
            plain.append(text[i:j])
            offset += utf16_len(plain[-1])
            i = j
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(plain), entities


def _entity(
    name: str, attrs: dict[str, str], start: int, end: int, outer: list[Any]
) -> dict[str, Any] | None:
    if end == start:
        return None  # Telegram drops empty entities
    kind = _KIND[name]
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    if name == "a":
        entity["url"] = attrs.get("href", "")
    elif name == "code" and outer and outer[-1][0] == "pre":
        cls = attrs.get("class", "")
        if cls.startswith("language-"):  # the language belongs to the enclosing pre
            outer[-1][2]["language"] = cls.removeprefix("language-")
        return None
    elif name == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return entity


def well_formed(text: str, *, strict: bool = True) -> bool:
    """Whether Telegram would accept `text`; strict also rejects bare `&` and `>` (which our
    formatter must always escape)."""
    try:
        parse_html(text)
    except EntityError:
        return False
    if strict:
        stripped = _TAG.sub("", _ENTITY.sub("", text))
        return not any(ch in stripped for ch in "<>&")
    return True
