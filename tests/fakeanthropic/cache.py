"""Anthropic's prompt caching, as far as a test can see it.

The prompt is read in order tools, system, messages, block by block. A block with
`cache_control` is a breakpoint (at most 4 per request): the prefix up to and including it is
written to the cache; a later request reads the longest cached prefix that ends at one of its
breakpoints or at one of the 20 blocks before each. `usage` splits the prompt into
`cache_read_input_tokens`, `cache_creation_input_tokens` and the rest, `input_tokens`. The fake's
token is a word; there is no minimum cacheable length (test prompts are short) and no expiry.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import orjson

LOOKBACK = 20
_KEPT = 100_000  # prefixes kept; the oldest are forgotten past this


def _blocks(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every block of the prompt in order, with the role it belongs to."""
    out: list[tuple[dict[str, Any], str]] = [(t, "tools") for t in body.get("tools") or ()]
    system = body.get("system")
    if isinstance(system, str):
        out.append(({"type": "text", "text": system}, "system"))
    elif isinstance(system, list):
        out += [(b, "system") for b in system]
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        out += [(b, message["role"]) for b in content]
    return out


def _words(block: dict[str, Any]) -> int:
    if block.get("type") == "text":
        return len(str(block.get("text", "")).split())
    if block.get("type") == "tool_result":
        content = block.get("content")
        return len(
            (content if isinstance(content, str) else orjson.dumps(content).decode()).split()
        )
    return len(orjson.dumps(block).decode().split())


class PromptCache:
    def __init__(self) -> None:
        self._prefixes: dict[bytes, None] = {}
        self._lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        """The request's `input_tokens`, `cache_creation_input_tokens` and
        `cache_read_input_tokens`; its breakpoints' prefixes are cached from now on."""
        digest = hashlib.sha256()
        prefixes: list[bytes] = []
        upto: list[int] = []
        breakpoints: list[int] = []
        total = 0
        for index, (block, role) in enumerate(_blocks(body)):
            if "cache_control" in block:
                breakpoints.append(index)
            plain = {k: v for k, v in block.items() if k != "cache_control"}
            digest.update(role.encode() + orjson.dumps(plain, option=orjson.OPT_SORT_KEYS))
            prefixes.append(digest.copy().digest())
            total += _words(block)
            upto.append(total)
        with self._lock:
            read = 0
            for point in breakpoints:
                for index in range(point, max(point - LOOKBACK, -1), -1):
                    if prefixes[index] in self._prefixes:
                        read = max(read, upto[index])
                        break
            written = upto[breakpoints[-1]] - read if breakpoints else 0
            for point in breakpoints:
                self._prefixes[prefixes[point]] = None
            while len(self._prefixes) > _KEPT:
                del self._prefixes[next(iter(self._prefixes))]
        return {
            "input_tokens": total - read - written,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }
