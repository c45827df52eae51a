"""OpenAI's automatic prompt caching, as far as a test can see it.

The real API caches the longest prompt prefix it saw recently (from 1,024 tokens, in steps of
128), routed by `prompt_cache_key`, and reports the tokens it read in
`usage.prompt_tokens_details.cached_tokens`. The fake keeps, per `prompt_cache_key`, the last
request's tools and messages; a request with the same key and the same tools reads the words of
the leading messages it shares with that one, byte for byte (the fake's token is a word, as in
`count_prompt_tokens`; no minimum, since test prompts are short). Requests without a key read
nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

from .script import message_text

_KEYS = 10_000  # keys kept, least recently used dropped


class PromptCache:
    def __init__(self) -> None:
        self._last: OrderedDict[str, tuple[bytes, list[bytes]]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, body: dict[str, Any]) -> int:
        """The cached prompt tokens of this request; it becomes the key's latest."""
        key = body.get("prompt_cache_key")
        if not isinstance(key, str):
            return 0
        messages: list[Any] = body["messages"]
        tools = orjson.dumps(body.get("tools"))
        encoded = [orjson.dumps(m) for m in messages]
        with self._lock:
            previous = self._last.pop(key, None)
            self._last[key] = (tools, encoded)
            while len(self._last) > _KEYS:
                self._last.popitem(last=False)
        if previous is None or previous[0] != tools:
            return 0
        shared = 0
        for mine, theirs in zip(encoded, previous[1], strict=False):
            if mine != theirs:
                break
            shared += 1
        return sum(
            len(message_text(m.get("content")).split())
            for m in messages[:shared]
            if isinstance(m, dict)
        )
