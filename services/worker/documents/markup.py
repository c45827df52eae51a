"""Text-like files: plain text, CSV, JSON, Markdown (a segment per heading, by markdown-it-py)
and HTML (BeautifulSoup: scripts and styles dropped, a segment per h1-h6)."""

from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag
from markdown_it import MarkdownIt

from services.worker.documents.collect import Collector, Unreadable

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_INVISIBLE = {"script", "style", "noscript", "template", "head"}
_BLOCKS = {"p", "div", "br", "li", "tr", "section", "article", "pre", "blockquote", "table"}


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM, or UTF-16 with one); anything else as Windows-1252."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16", "replace")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", "replace")


def read_text(content: bytes, out: Collector) -> dict[str, Any]:
    out.add(decode(content))
    return out.result(None)


def read_json(content: bytes, out: Collector) -> dict[str, Any]:
    text = decode(content)
    try:
        json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"The file is not valid JSON ({exc}).") from exc
    out.add(text)
    return out.result(None)


def read_markdown(content: bytes, out: Collector) -> dict[str, Any]:
    text = decode(content)
    lines = text.split("\n")
    tokens = MarkdownIt("commonmark").parse(text)
    heading: str | None = None
    begin = 0
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        out.add("\n".join(lines[begin : token.map[0]]), heading=heading)
        inline = tokens[index + 1] if index + 1 < len(tokens) else None
        heading = inline.content.strip() if inline is not None else None
        begin = token.map[0]
    out.add("\n".join(lines[begin:]), heading=heading)
    return out.result(None)


def read_html(content: bytes, out: Collector) -> dict[str, Any]:
    soup = BeautifulSoup(decode(content), "html.parser")
    for hidden in soup.find_all(_INVISIBLE):  # not what a reader sees
        if not hidden.decomposed:
            hidden.decompose()
    heading: str | None = None
    parts: list[str] = []
    for node in soup.descendants:
        if out.full:
            break
        if isinstance(node, Tag):
            if node.name in _HEADINGS:
                out.add("".join(parts), heading=heading)
                heading, parts = node.get_text(" ", strip=True), []
            elif node.name in _BLOCKS:
                parts.append("\n")
        elif type(node) is NavigableString:  # comments and the like are subclasses
            parts.append(str(node))
    out.add("".join(parts), heading=heading)
    return out.result(None)
