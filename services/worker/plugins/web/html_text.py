"""HTML to readable text with the standard library's tolerant parser.

Scripts, styles and other non-text parts are dropped, block elements become line breaks,
runs of white space collapse (except in <pre>), and links are collected so the model can
follow them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Content of these is never text for a reader.
_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
MAX_LINKS = 30


@dataclass
class PageText:
    title: str = ""
    text: str = ""
    links: list[dict[str, str]] = field(default_factory=list)


class _Extractor(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.title: list[str] = []
        self.links: list[dict[str, str]] = []
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
            elif tag == "pre":
                self._pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._link = (urljoin(self.base_url, href.strip()), [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in _BLOCK:
            if tag != "li":  # the next item starts its own line
                self.parts.append("\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._link is not None:
            url, words = self._link
            label = " ".join(" ".join(words).split())
            if label and urlsplit(url).scheme in ("http", "https") and len(self.links) < MAX_LINKS:
                self.links.append({"text": label[:100], "url": url})
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title.append(data)
            return
        if self._link is not None:
            self._link[1].append(data)
        if self._pre:
            self.parts.append(data)
            return
        text = _SPACES.sub(" ", data.replace("\n", " "))
        if not self.parts or self.parts[-1].endswith(("\n", " ", "- ")):
            text = text.lstrip()
        self.parts.append(text)


def html_to_text(html: str, base_url: str = "") -> PageText:
    parser = _Extractor(base_url)
    parser.feed(html)
    parser.close()
    lines = (line.rstrip() for line in "".join(parser.parts).split("\n"))
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
    return PageText(" ".join(" ".join(parser.title).split()), text, parser.links)
