"""Markdown as LLMs write it → Telegram's HTML parse mode (splitting it: splitting.py).

Pure functions, no I/O. Telegram rejects a whole message when one tag is unbalanced or one `<` is
left unescaped, so everything here is built to produce well-formed output from any input:
unmatched Markdown markers simply stay literal, and a split inside an element closes and reopens
it instead of cutting a tag in two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

__all__ = ["strip_to_plain", "to_telegram_html"]


# Link schemes Telegram opens safely; anything else (javascript:, data:, relative) stays text.
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$")  # indented: inside a list item
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9}[.)])\s+(.*)$")
_QUOTE = re.compile(r"^ {0,3}>\s?(.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

_TAG_FOR = {"**": "b", "__": "b", "*": "i", "_": "i", "~~": "s"}


# ---------------------------------------------------------------------------------------------
# Markdown → HTML / plain text


@dataclass
class _Opener:
    """An emphasis marker that may still become a tag; until matched it renders as itself."""

    marker: str
    index: int  # position of its placeholder in the output list


class _Inline:
    """One pass over a line's inline Markdown with a delimiter stack.

    Matching a closer drops every opener above its partner (those stay literal), so the tags
    that do get emitted always nest properly — the property Telegram's parser insists on.
    """

    def __init__(self, *, plain: bool, links: bool = True) -> None:
        self.plain = plain
        self.links = links
        self.out: list[str] = []
        self.stack: list[_Opener] = []

    def text(self, s: str) -> None:
        self.out.append(s if self.plain else escape(s, quote=False))

    def render(self, src: str) -> str:
        i, n = 0, len(src)
        while i < n:
            c = src[i]
            if c == "\\" and i + 1 < n and src[i + 1] in _PUNCT:
                self.text(src[i + 1])
                i += 2
            elif c == "`":
                i = self._code(src, i)
            elif c == "[" and self.links:
                i = self._link(src, i)
            elif c in "*_~":
                i = self._delims(src, i)
            else:
                j = i + 1
                while j < n and src[j] not in "\\`[*_~":
                    j += 1
                self.text(src[i:j])
                i = j
        return "".join(self.out)

    def _code(self, src: str, i: int) -> int:
        j = i
        while j < len(src) and src[j] == "`":
            j += 1
        run = src[i:j]
        # The closer is the next backtick run of exactly the same length (CommonMark).
        for m in re.finditer(r"`+", src[j:]):
            if len(m.group()) == len(run):
                body = src[j : j + m.start()]
                if len(body) > 2 and body[0] == body[-1] == " " and body.strip():
                    body = body[1:-1]
                if not body:
                    break
                if self.plain:
                    self.out.append(body)
                else:
                    self.out.append(f"<code>{escape(body, quote=False)}</code>")
                return j + m.end()
        self.text(run)
        return j

    def _link(self, src: str, i: int) -> int:
        depth, j = 0, i
        while j < len(src):
            ch = src[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "`":  # a code span inside the label keeps its brackets to itself
                k = src.find("`", j + 1)
                j = k + 1 if k > 0 else j + 1
                continue
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        m = re.match(r"\(\s*(<[^>\s]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\s*\)", src[j + 1 :])
        label = src[i + 1 : j]
        if j >= len(src) or m is None or not label.strip():
            self.text("[")
            return i + 1
        url = m.group(1).strip("<>")
        if not url.lower().startswith(_SAFE_SCHEMES):
            self.text("[")  # the label and the rest are formatted as ordinary text
            return i + 1
        inner = _Inline(plain=self.plain, links=False).render(label)
        if self.plain:
            self.out.append(inner if inner == url else f"{inner} ({url})")
        else:
            self.out.append(f'<a href="{escape(url, quote=True)}">{inner}</a>')
        return j + 1 + m.end()

    def _delims(self, src: str, i: int) -> int:
        c = src[i]
        j = i
        while j < len(src) and src[j] == c:
            j += 1
        run = src[i:j]
        before = src[i - 1] if i > 0 else " "
        after = src[j] if j < len(src) else " "
        can_open = not after.isspace()
        can_close = not before.isspace()
        if c == "_":  # intraword underscores (snake_case_name) are never emphasis
            can_open = can_open and not before.isalnum()
            can_close = can_close and not after.isalnum()
        if c == "~":
            parts = ["~~"] if run == "~~" else []
        elif len(run) <= 2:
            parts = [run]
        elif len(run) == 3:
            top = self.stack[-1].marker if self.stack else ""
            parts = [c, c * 2] if can_close and top == c else [c * 2, c]
        else:
            parts = []
        if not parts:
            self.text(run)
            return j
        for part in parts:
            self._delim(part, can_open=can_open, can_close=can_close)
        return j

    def _delim(self, marker: str, *, can_open: bool, can_close: bool) -> None:
        if can_close:
            for k in range(len(self.stack) - 1, -1, -1):
                opener = self.stack[k]
                if opener.marker != marker:
                    continue
                if opener.index == len(self.out) - 1:
                    break  # nothing between the markers: "****" is not an empty <b>
                del self.stack[k:]  # openers above the partner stay literal
                tag = _TAG_FOR[marker]
                if not self.plain:
                    self.out[opener.index] = f"<{tag}>"
                    self.out.append(f"</{tag}>")
                else:
                    self.out[opener.index] = ""
                return
        if can_open:
            self.stack.append(_Opener(marker, len(self.out)))
        self.text(marker)


def _inline(src: str, *, plain: bool) -> str:
    return _Inline(plain=plain).render(src)


def _line(line: str, *, plain: bool) -> str:
    """One line outside code blocks: headings, rules, bullets, numbered items, inline text."""
    if m := _HEADING.match(line):
        inner = _inline(m.group(2), plain=plain)
        return inner if plain or not inner else f"<b>{inner}</b>"
    if _RULE.match(line):
        return "──────────"
    if m := _BULLET.match(line):
        return f"{m.group(1)}• {_inline(m.group(2), plain=plain)}"
    if m := _NUMBERED.match(line):
        return f"{m.group(1)}{m.group(2)} {_inline(m.group(3), plain=plain)}"
    return _inline(line, plain=plain)


def _dedent(line: str, indent: int) -> str:
    """Drop the fence's own indentation from a code line (no more than it has)."""
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(indent, stripped) :]


def _convert(markdown: str, *, plain: bool) -> str:
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, marker = len(fence.group(1)), fence.group(2)
            close = next(
                (
                    k
                    for k in range(i + 1, len(lines))
                    if lines[k].strip().startswith(marker) and not lines[k].strip().strip(marker[0])
                ),
                None,
            )
            if close is not None:  # an unclosed fence stays literal
                body = "\n".join(_dedent(line, indent) for line in lines[i + 1 : close])
                lang = fence.group(3)
                if plain or not body.strip():
                    out.append(body)
                elif lang:
                    out.append(
                        f'<pre><code class="language-{escape(lang, quote=True)}">'
                        f"{escape(body, quote=False)}</code></pre>"
                    )
                else:
                    out.append(f"<pre>{escape(body, quote=False)}</pre>")
                i = close + 1
                continue
        if _QUOTE.match(line):
            quoted: list[str] = []
            while i < len(lines) and (m := _QUOTE.match(lines[i])):
                quoted.append(_line(m.group(1), plain=plain))
                i += 1
            body = "\n".join(quoted)
            out.append(body if plain or not body.strip() else f"<blockquote>{body}</blockquote>")
            continue
        out.append(_line(line, plain=plain))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def to_telegram_html(markdown: str) -> str:
    """Markdown (as LLMs write it) → text for `parse_mode="HTML"`, always well-formed.

    Supported: bold, italic, strike, inline code, fenced code blocks (with language), links with
    http/https/tg/mailto URLs, headings (bold lines), bullets (•), numbered lists, quotes.
    Everything else is escaped; markers without a partner stay as typed.
    """
    return _convert(markdown, plain=False)


def strip_to_plain(markdown: str) -> str:
    """The same text without Markdown markers and without HTML: the fallback when Telegram
    rejects the entities of the formatted version (sent with no parse mode)."""
    return _convert(markdown, plain=True)
