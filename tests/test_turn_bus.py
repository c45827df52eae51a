"""The turn transport's rules, against real Redis: sealing, ordering slots, orphan detection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.asyncio import Redis

from shared.events import DoneEvent, ErrorCode, TokenEvent, decode
from shared.turn_bus import TurnBus


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[TurnBus]:
    redis = Redis.from_url(redis_url)
    yield TurnBus(redis, ttl_seconds=60, maxlen=1000, lease_seconds=0.3)
    await redis.aclose()


def _ids() -> tuple[str, str]:
    return uuid.uuid4().hex, f"bus-{uuid.uuid4().hex[:8]}"


async def test_terminal_event_seals_the_log_and_frees_the_channel(bus: TurnBus) -> None:
    turn, channel = _ids()
    await bus.register(turn, channel)
    assert await bus.append(turn, channel, TokenEvent(text="a")) is not None
    assert await bus.append(turn, channel, DoneEvent(full_response="a")) is not None
    assert await bus.append(turn, channel, TokenEvent(text="late")) is None
    stored = await bus.read_after(turn, None)
    assert [e.type for e in stored] == ["token", "done"]
    assert decode(stored[1].data).type == "done"
    assert await bus.redis.llen(f"aion:chanq:{channel}") == 0


async def test_turn_waits_for_the_one_before_it(bus: TurnBus) -> None:
    first, channel = _ids()
    second = uuid.uuid4().hex
    await bus.register(first, channel)
    await bus.register(second, channel)
    await bus.heartbeat("w1", 5)
    assert await bus.claim_and_wait(first, channel, "w1") == "start"
    waiting = asyncio.create_task(bus.claim_and_wait(second, channel, "w1"))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await bus.append(first, channel, DoneEvent(full_response=""))
    assert await asyncio.wait_for(waiting, 2) == "start"


async def test_cancelled_while_waiting(bus: TurnBus) -> None:
    first, channel = _ids()
    second = uuid.uuid4().hex
    await bus.register(first, channel)
    await bus.register(second, channel)
    await bus.heartbeat("w2", 5)
    waiting = asyncio.create_task(bus.claim_and_wait(second, channel, "w2"))
    await bus.request_cancel(second)
    assert await asyncio.wait_for(waiting, 2) == "cancelled"


async def test_turn_taken_from_the_queue_but_never_claimed_is_lost_after_a_lease(
    bus: TurnBus,
) -> None:
    """A worker killed between arq's pickup and our claim leaves no owner behind."""
    turn, channel = _ids()
    await bus.register(turn, channel)
    await bus.redis.set(job_key_prefix + turn, b"job")
    assert await bus.is_orphaned(turn) is False  # queued in arq: alive
    await bus.redis.set(in_progress_key_prefix + turn, b"1")
    assert await bus.is_orphaned(turn) is False  # just taken: give it a lease
    await asyncio.sleep(0.4)
    assert await bus.reap_if_orphaned(turn) is True
    last = (await bus.read_after(turn, None))[-1]
    assert decode(last.data).model_dump()["code"] == ErrorCode.WORKER_LOST
    assert await bus.redis.llen(f"aion:chanq:{channel}") == 0
    # its job, should arq hand it out later, is never run
    assert await bus.claim_and_wait(turn, channel, "w9") == "ended"


async def test_owned_turn_lives_and_dies_with_its_worker(bus: TurnBus) -> None:
    turn, channel = _ids()
    await bus.register(turn, channel)
    await bus.heartbeat("w3", 0.3)
    assert await bus.claim_and_wait(turn, channel, "w3") == "start"
    assert await bus.is_orphaned(turn) is False
    await asyncio.sleep(0.4)
    assert await bus.is_orphaned(turn) is True
