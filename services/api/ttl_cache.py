"""One value, reused for a few seconds: a burst of requests computes it once, not once each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    """The last value `load` gave, for `ttl` seconds. Concurrent callers of an expired value
    wait for one `load` (single flight); a failed `load` is not kept."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._value: T | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self, load: Callable[[], Awaitable[T]]) -> T:
        if self._value is not None and self._expires > self._clock():
            return self._value
        async with self._lock:
            if self._value is None or self._expires <= self._clock():
                self._value = await load()
                self._expires = self._clock() + self._ttl
            return self._value
