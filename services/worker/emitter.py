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
        self._held: list[Event] = []  # to go out with the next send (see `hold`)
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
        if self.lost is not None:  # a send failed for good: the turn ends here
            raise self.lost
        if not self._parts:
            metrics.first_token(asyncio.get_running_loop().time() - self._created)
        self._parts.append(text)
        self._pending.append(text)
        if self._timer is None:
            self._timer = asyncio.create_task(self._flush_after(self._due_in()))

    def _due_in(self) -> float:
        """Seconds until the pending tokens are due: 0 once the window since the last send has
        passed, or all but `FLUSH_SLACK` of it."""
        window = self.window()
        wait = self._last_flush + window - asyncio.get_running_loop().time()
        return wait if wait > window * FLUSH_SLACK else 0.0

    async def _flush_after(self, delay: float) -> None:
        """One send at a time: tokens that come while it is on its way wait for the next."""
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            with contextlib.suppress(RedisUnavailable):  # kept in `lost`: the turn's next send
                await self.flush()  # or token raises it where it is awaited
        finally:
            self._timer = None
        if self._pending and self.lost is None and not self.sealed:
            self._timer = asyncio.create_task(self._flush_after(self._due_in()))

    async def flush(self) -> None:
        """Send the pending tokens, with any events held for the next send."""
        async with self._lock:
            await self._send(self._take())

    async def emit(self, event: Event) -> None:
        """Send any pending tokens and held events, then `event`, in one round trip (a pending
        timer then finds nothing to send)."""
        async with self._lock:
            await self._send([*self._take(), event])

    def hold(self, event: Event) -> None:
        """Queue `event` (after the tokens so far) to travel with the next send instead of a
        round trip of its own: a model call's `usage` goes out with the answer's last words or
        its `done`. Every turn ends with a send (`done` or `error`), so nothing is left."""
        events = self._take()
        events.append(event)
        self._held = events

    def _take(self) -> list[Event]:
        """The held events and the pending tokens as one `token` event, in order; cleared."""
        events, self._held = self._held, []
        if self._pending:
            events.append(TokenEvent(text="".join(self._pending)))
            self._pending.clear()
            self._last_flush = asyncio.get_running_loop().time()
        return events

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

    async def _send(self, events: list[Event]) -> None:
        if self.sealed or not events:
            return
        if self.lost is not None:
            raise self.lost
        numbered = [(event, self._seq + i) for i, event in enumerate(events, start=1)]
        self._seq += len(events)
        try:
            stored = await self._bus.append_many(self._turn_id, self._channel, numbered)
        except RedisUnavailable as exc:
            log.error("turn %s lost Redis; it ends here: %s", self._turn_id, exc)
            self.lost = exc
            raise
        for event, event_id in zip(events, stored, strict=True):
            if event_id is None:
                # The turn was ended elsewhere (reaped as lost); say nothing more.
                self.sealed = True
                return
            if getattr(event, "type", None) in TERMINAL_TYPES:
                self.sealed = True
                self.ended = event
                metrics.turn_ended(event)
                return
