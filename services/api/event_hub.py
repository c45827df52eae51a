"""Live turn events for this api process: one Redis pub/sub connection shared by all streams.

Each open SSE stream subscribes to its turn's channel (or the notices channel) through the hub;
the hub subscribes in Redis when the first local reader of a channel arrives and unsubscribes
after the last one leaves. If the connection drops, every reader is told to resynchronise from
its log. Notice streams never end by themselves, so they do not count as open streams a
draining api waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from shared.control import CONTROL_CHANNEL
from shared.notices import NOTICES_CHANNEL
from shared.turn_keys import StoredEvent, live_channel, parse_announcement

log = logging.getLogger("aion.api.events")

RESYNC = None  # queued to a reader when live messages may have been missed


@dataclass(eq=False)
class Subscription:
    channel: str
    queue: asyncio.Queue[StoredEvent | None] = field(default_factory=asyncio.Queue)


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub: PubSub = redis.pubsub()
        self._readers: dict[str, set[Subscription]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()  # set whenever the last reader leaves

    async def start(self) -> None:
        # Always subscribed to something, so the reader loop has a connection to read.
        await self._pubsub.subscribe(CONTROL_CHANNEL)
        self._task = asyncio.create_task(self._read_loop(), name="aion-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._pubsub.aclose()

    @property
    def open_streams(self) -> int:
        """Open turn streams (notice streams left out: they never end by themselves)."""
        return sum(len(r) for name, r in self._readers.items() if name != NOTICES_CHANNEL)

    async def wait_idle(self) -> None:
        """Return once no turn stream is subscribed (a draining api waits for this)."""
        while self.open_streams:
            self._idle.clear()
            await self._idle.wait()

    async def subscribe(self, turn_id: str) -> Subscription:
        """Register a reader of a turn; returns once Redis confirmed the subscription."""
        return await self.subscribe_channel(live_channel(turn_id))

    async def subscribe_channel(self, channel: str) -> Subscription:
        """Register a reader of `channel` (announcements `id\\ntype\\njson`)."""
        sub = Subscription(channel)
        readers = self._readers.setdefault(channel, set())
        readers.add(sub)
        if len(readers) == 1:
            confirmed = self._confirmed[channel] = asyncio.Event()
            await self._pubsub.subscribe(channel)
        else:
            confirmed = self._confirmed.get(channel) or asyncio.Event()
        if not confirmed.is_set():
            # Unconfirmed after the timeout is still safe: the reader re-reads the log when idle.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await confirmed.wait()
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        readers = self._readers.get(sub.channel)
        if readers is None:
            return
        readers.discard(sub)
        if not readers:
            del self._readers[sub.channel]
            self._confirmed.pop(sub.channel, None)
            self._idle.set()  # wait_idle counts again
            with contextlib.suppress(redis.exceptions.RedisError):
                await self._pubsub.unsubscribe(sub.channel)

    async def _read_loop(self) -> None:
        lost = False
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                if not lost:
                    log.warning("event hub lost Redis (%s); readers will resync", exc)
                    lost = True
                    self._resync_all()
                await asyncio.sleep(0.5)  # the next read reconnects and subscribes again
                continue
            if lost:
                # Subscribed again: what was announced in between is only in the logs.
                log.info("event hub reached Redis again; readers resync")
                lost = False
                self._resync_all()
                await self._drop_stale_channels()
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, object]) -> None:
        raw_channel = message["channel"]
        channel = raw_channel.decode() if isinstance(raw_channel, bytes) else str(raw_channel)
        kind = message["type"]
        if kind == "subscribe":
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            return
        if kind != "message" or channel not in self._readers:
            return
        data = message["data"]
        assert isinstance(data, bytes | str)
        stored = parse_announcement(data)
        for sub in self._readers[channel]:
            sub.queue.put_nowait(stored)

    async def _drop_stale_channels(self) -> None:
        """redis-py subscribes again to every channel it still counts, including those whose
        last reader left while Redis was away (that unsubscribe failed): drop them now."""
        stale = [
            name
            for raw in list(self._pubsub.channels)
            if (name := raw.decode() if isinstance(raw, bytes) else str(raw)) != CONTROL_CHANNEL
            and name not in self._readers
        ]
        if stale:
            with contextlib.suppress(redis.exceptions.RedisError):
                await self._pubsub.unsubscribe(*stale)

    def _resync_all(self) -> None:
        for readers in self._readers.values():
            for sub in readers:
                sub.queue.put_nowait(RESYNC)
