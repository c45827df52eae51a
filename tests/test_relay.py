"""The api's relay of a turn's events (`follow_turn`), against real Redis: races with the worker.

Uses a Redis database of its own (the stack's db + 1), so no worker takes its jobs.
"""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

from arq.connections import ArqRedis

from services.api.event_hub import EventHub
from services.api.turns import follow_turn
from shared.events import DoneEvent, TokenEvent
from shared.jobs import TurnJob
from shared.turn_bus import TurnBus
from shared.turn_keys import StoredEvent


class TurnEndsRightAfterTheRead(TurnBus):
    """The worker runs the whole turn just after the relay's first look at the log: under load
    (hundreds of streams on one api) that window is wide enough to be hit now and then."""

    def __init__(self, redis: ArqRedis, job: TurnJob) -> None:
        super().__init__(redis, ttl_seconds=60, maxlen=1000, lease_seconds=5)
        self.job = job
        self.reads = 0

    async def read_log(self, turn_id: str, after_id: str | None) -> tuple[list[StoredEvent], bool]:
        seen = await super().read_log(turn_id, after_id)
        self.reads += 1
        if self.reads == 1:
            await self.append(turn_id, self.job.channel, TokenEvent(text="all of it"), seq=1)
            await self.append(turn_id, self.job.channel, DoneEvent(full_response="x"), seq=2)
        return seen

    async def has_ended(self, turn_id: str) -> bool:
        return self.reads > 0 or await super().has_ended(turn_id)


async def test_a_turn_that_ends_between_the_relays_reads_is_delivered_whole(
    queue_redis: ArqRedis,
) -> None:
    job = TurnJob(
        turn_id=uuid.uuid4().hex,
        channel=f"relay-{uuid.uuid4().hex[:8]}",
        message="hi",
        enqueued_at_ms=int(time.time() * 1000),
    )
    bus = TurnEndsRightAfterTheRead(queue_redis, job)
    assert await bus.submit(job)
    hub = EventHub(queue_redis)
    await hub.start()
    settings = SimpleNamespace(
        aion_relay_idle_check_seconds=0.2, aion_relay_redis_grace_seconds=5.0
    )
    ctx: Any = SimpleNamespace(bus=bus, hub=hub, settings=settings)
    try:
        delivered = [event.type async for event in follow_turn(ctx, job.turn_id, None)]
    finally:
        await hub.stop()
    assert delivered == ["token", "done"]
