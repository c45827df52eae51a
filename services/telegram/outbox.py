"""Every call that puts something into a chat goes through here: paced, and retried on 429.

Telegram allows a bot about one message (or edit) per second in a chat and answers faster
callers with 429 and `retry_after`. `Outbox.send` waits for the chat's next slot before each
call, and on 429 sleeps what Telegram asked before it tries again, so a burst of edits never
turns into lost or duplicated messages. Only a 429 is retried: Telegram guarantees that such a
call did nothing, while a timed-out send may have been delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import RetryAfter

log = logging.getLogger("aion.telegram.outbox")

T = TypeVar("T")
MAX_RETRIES = 5
MAX_WAIT_SECONDS = 60.0


def retry_seconds(exc: RetryAfter) -> float:
    value: int | timedelta = exc._retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Outbox:
    """Per-chat pacing; `interval` seconds between two calls into one chat."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._next_slot: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, chat_id: int) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    def due_in(self, chat_id: int) -> float:
        """Seconds until the chat's next call may go (0: now)."""
        return max(0.0, self._next_slot.get(chat_id, 0.0) - time.monotonic())

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        async with self._lock(chat_id):
            for attempt in range(MAX_RETRIES + 1):
                await asyncio.sleep(self.due_in(chat_id))
                try:
                    return await call()
                except RetryAfter as exc:
                    wait = min(retry_seconds(exc), MAX_WAIT_SECONDS)
                    log.warning(
                        "Telegram asked to wait %.0f s before writing to the chat again", wait
                    )
                    self._next_slot[chat_id] = time.monotonic() + wait
                    if attempt == MAX_RETRIES:
                        raise
                finally:
                    self._next_slot[chat_id] = max(
                        self._next_slot.get(chat_id, 0.0), time.monotonic() + self.interval
                    )
            raise AssertionError("unreachable")

    def forget(self, chat_id: int) -> None:
        """Drop an idle chat's pacing state (the chat queue calls it when the chat goes quiet)."""
        lock = self._locks.get(chat_id)
        if lock is not None and not lock.locked() and self.due_in(chat_id) == 0:
            self._locks.pop(chat_id, None)
            self._next_slot.pop(chat_id, None)
