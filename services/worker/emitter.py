"""Publishes one turn's events, coalescing token deltas.

The first delta goes out at once (time to first token), with whatever arrived in the same read;
later deltas that arrive within the flush window travel as one `token` event. The per-token
Redis round trip is the worker's main cost, so this is what keeps CPU per turn low under load.

Each event carries the emitter's own sequence number to Redis, so an append retried across a
Redis restart is stored once. When Redis stays away past the bus's retry budget the emitter
gives up for good: every later send fails at once with the same `RedisUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from shared import metrics
from shared.events import TERMINAL_TYPES, DoneEvent, Event, ResponseBlock, TextBlock, TokenEvent
from shared.retry import RedisUnavailable
from shared.turn_bus import TurnBus

log = logging.getLogger("aion.worker.emitter")

# Turns running at once per step of the flush window (see `flush_window`).
TURNS_PER_WINDOW = 25
# A send due within this share of the window goes at once rather than after a timer.
FLUSH_SLACK = 0.2


def flush_window(base: float, widest: float, running: int) -> float:
    """Seconds of token deltas a turn sends as one event: `base`, widened in proportion to the
    turns running at once beyond TURNS_PER_WINDOW, up to `widest`. Under load every event's
    cost (a Redis append, a relay, an SSE write) counts most, while a few updates a second
    still read as streaming; a worker with few turns keeps the finest updates."""
    return max(base, min(widest, base * running / TURNS_PER_WINDOW))


class TurnEmitter:
    def __init__(
        self, bus: TurnBus, turn_id: str, channel: str, window: Callable[[], float]
    ) -> None:
        self._bus = bus
        self._turn_id = turn_id
        self._channel = channel
        self.window = window  # the flush window in seconds, now (it widens under load)
        self._pending: list[str] = []
        self._parts: list[str] = []
        self._blocks: list[ResponseBlock] = []
        self._last_flush = float("-inf")
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # appends stay in order across the timer and the stream
        self.sealed = False  # a terminal event was written (by us, or by a reaper)
        self.ended: Event | None = None  # the terminal event this emitter wrote
        self.lost: RedisUnavailable | None = None  # Redis stayed away too long: nothing more
        self._seq = 0  # events sent so far: makes a retried append idempotent
        self._created = asyncio.get_running_loop().time()  # the worker took the turn

    def add_block(self, block: ResponseBlock) -> None:
        """A block (audio, image) for `done`'s response_blocks, after the text."""
        self._blocks.append(block)

    @property
    def text(self) -> str:
        """Everything said so far in this turn."""
        return "".join(self._parts)

    async def token(self, text: str) -> None:
        """Queue `text`; it goes out once the window since the last event has passed.

        The send is a task of its own, never awaited here: the deltas of one provider read
        arrive back to back, and the send starts once the reader waits again, with all of them.
        A send due within `FLUSH_SLACK` of a window goes at once, so a stream read once per
        window (see `PacedReader`) wakes the worker once per window, not again for a timer.
        """
        loop = asyncio.get_running_loop()
        if not self._parts:
            metrics.first_token(loop.time() - self._created)
        self._parts.append(text)
        self._pending.append(text)
        if self._timer is None:
            window = self.window()
            wait = self._last_flush + window - loop.time()
            delay = wait if wait > window * FLUSH_SLACK else 0.0
            self._timer = asyncio.create_task(self._flush_after(delay))

    async def _flush_after(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self._timer = None
        with contextlib.suppress(RedisUnavailable):  # kept in `lost`: the turn's next send
            await self.flush()  # raises it where it is awaited

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            text = "".join(self._pending)
            self._pending.clear()
            self._last_flush = asyncio.get_running_loop().time()
            await self._send(TokenEvent(text=text))

    async def emit(self, event: Event) -> None:
        """Send any pending tokens, then `event` (a pending timer then finds nothing to send)."""
        await self.flush()
        async with self._lock:
            await self._send(event)

    async def done(
        self,
        *,
        cancelled: bool = False,
        approval_id: str | None = None,
    ) -> None:
        full = self.text
        blocks: list[ResponseBlock] = [TextBlock(content=full)] if full else []
        blocks += self._blocks
        await self.emit(
            DoneEvent(
                full_response=full,
                response_blocks=blocks,
                approval_pending=approval_id is not None,
                approval_id=approval_id,
                cancelled=cancelled or None,
            )
        )

    async def _send(self, event: Event) -> None:
        if self.sealed:
            return
        if self.lost is not None:
            raise self.lost
        self._seq += 1
        try:
            stored = await self._bus.append(self._turn_id, self._channel, event, seq=self._seq)
        except RedisUnavailable as exc:
            log.error("turn %s lost Redis; it ends here: %s", self._turn_id, exc)
            self.lost = exc
            raise
        if stored is None:
            # The turn was ended elsewhere (reaped as lost); say nothing more.
            self.sealed = True
        elif getattr(event, "type", None) in TERMINAL_TYPES:
            self.sealed = True
            self.ended = event
            metrics.turn_ended(event)
