"""The turn transport's rules, against real Redis: sealing, ordering slots, orphans, re-queueing.

These use a Redis database of their own (the stack's db + 1), so no worker takes their jobs.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.jobs import Job

from shared.events import DoneEvent, ErrorCode, Event, TokenEvent, UsageEvent, decode
from shared.jobs import (
    JOBS_WAKE_CHANNEL,
    QUEUE_NAME,
    RUN_TURN,
    TurnJob,
    deserialize_job,
)
from shared.turn_bus import MAX_REQUEUES, TurnBus
from shared.turn_keys import channel_queue_key, live_channel, meta_key
from tests.helpers import eventually


@pytest.fixture
def bus(queue_redis: ArqRedis) -> TurnBus:
    return TurnBus(queue_redis, ttl_seconds=60, maxlen=1000, lease_seconds=0.3)


def _job(channel: str | None = None) -> TurnJob:
    return TurnJob(
        turn_id=uuid.uuid4().hex,
        channel=channel or f"bus-{uuid.uuid4().hex[:8]}",
        message="hi",
        enqueued_at_ms=int(time.time() * 1000),
    )


async def _registered(bus: TurnBus, channel: str | None = None) -> TurnJob:
    job = _job(channel)
    assert await bus.submit(job)
    return job


async def test_submit_records_queues_and_wakes_in_one_step(bus: TurnBus) -> None:
    wake = bus.redis.pubsub()
    await wake.subscribe(JOBS_WAKE_CHANNEL)
    try:
        job = await _registered(bus)
        meta = await bus.redis.hgetall(meta_key(job.turn_id))
        assert meta[b"channel"] == job.channel.encode() and meta[b"job_id"] == job.turn_id.encode()
        assert TurnJob.model_validate_json(meta[b"job"]) == job
        assert await bus.channel_head(job.channel) == job.turn_id
        assert await bus.redis.zscore(QUEUE_NAME, job.turn_id) is not None
        queued = await Job(
            job.turn_id, bus.redis, _queue_name=QUEUE_NAME, _deserializer=deserialize_job
        ).info()
        assert queued is not None and queued.function == RUN_TURN
        assert TurnJob.model_validate(queued.args[0]) == job
        message = None
        while message is None or message["type"] != "message":
            message = await wake.get_message(timeout=2)
            assert message is not None, "the workers were not woken"
        # The same id again (a collision): refused, and the channel keeps one place for it.
        assert not await bus.submit(job)
        assert await bus.redis.llen(channel_queue_key(job.channel)) == 1
    finally:
        await wake.aclose()


async def test_terminal_event_seals_the_log_and_frees_the_channel(bus: TurnBus) -> None:
    job = await _registered(bus)
    assert await bus.append(job.turn_id, job.channel, TokenEvent(text="a")) is not None
    assert await bus.append(job.turn_id, job.channel, DoneEvent(full_response="a")) is not None
    assert await bus.append(job.turn_id, job.channel, TokenEvent(text="late")) is None
    stored = await bus.read_after(job.turn_id, None)
    assert [e.type for e in stored] == ["token", "done"]
    assert decode(stored[1].data).type == "done"
    assert await bus.redis.llen(f"aion:chanq:{job.channel}") == 0


async def test_turn_waits_for_the_one_before_it(
    bus: TurnBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _registered(bus)
    second = await _registered(bus, first.channel)
    await bus.heartbeat("w1", 5)
    assert await bus.claim_and_wait(first.turn_id, first.channel, "w1", first.turn_id) == "start"
    looks = 0
    peek = bus._peek

    async def counted_peek(queue: str, turn_id: str) -> tuple[bytes | None, int]:
        nonlocal looks
        looks += 1
        return await peek(queue, turn_id)

    monkeypatch.setattr(bus, "_peek", counted_peek)  # only counted: the bus does what it does
    waiting = asyncio.create_task(
        bus.claim_and_wait(second.turn_id, second.channel, "w1", second.turn_id)
    )

    # It has claimed the turn and looked at the channel's head again twice since, and waits on.
    await eventually(lambda: waiting.done() or looks >= 2, "the second turn to look twice")
    assert not waiting.done()
    await bus.append(first.turn_id, first.channel, DoneEvent(full_response=""))
    assert await asyncio.wait_for(waiting, 2) == "start"
    assert await bus.redis.hget(meta_key(second.turn_id), "started") == b"1"


async def test_cancelled_while_waiting(bus: TurnBus) -> None:
    first = await _registered(bus)
    second = await _registered(bus, first.channel)
    await bus.heartbeat("w2", 5)
    waiting = asyncio.create_task(
        bus.claim_and_wait(second.turn_id, second.channel, "w2", second.turn_id)
    )
    await bus.request_cancel(second.turn_id)
    assert await asyncio.wait_for(waiting, 2) == "cancelled"


async def test_turn_taken_but_never_claimed_gets_a_new_job_after_a_lease(bus: TurnBus) -> None:
    """A worker killed between arq's pickup and our claim: the turn did nothing yet, so it is
    handed to a new job, and the old job, should arq hand it out again, is not run."""
    job = await _registered(bus)
    assert await bus.is_orphaned(job.turn_id) is False  # queued in arq: alive
    await bus.redis.set(in_progress_key_prefix + job.turn_id, b"1")
    assert await bus.is_orphaned(job.turn_id) is False  # just taken: give it a lease
    await eventually(lambda: bus.reap_if_orphaned(job.turn_id), "the lease to lapse", timeout=5)
    new_job_id = f"{job.turn_id}-1"
    assert await bus.redis.exists(job_key_prefix + new_job_id)
    assert await bus.read_after(job.turn_id, None) == []  # no error: it will still run
    assert await bus.claim_and_wait(job.turn_id, job.channel, "w9", job.turn_id) == "ended"
    await bus.heartbeat("w9", 5)
    assert await bus.claim_and_wait(job.turn_id, job.channel, "w9", new_job_id) == "start"


async def test_started_turn_of_a_dead_worker_ends_with_worker_lost(bus: TurnBus) -> None:
    job = await _registered(bus)
    await bus.heartbeat("w3", 0.3)
    assert await bus.claim_and_wait(job.turn_id, job.channel, "w3", job.turn_id) == "start"
    assert await bus.is_orphaned(job.turn_id) is False
    await eventually(lambda: bus.reap_if_orphaned(job.turn_id), "the lease to lapse", timeout=5)
    last = decode((await bus.read_after(job.turn_id, None))[-1].data)
    assert last.model_dump()["code"] == ErrorCode.WORKER_LOST
    assert await bus.redis.llen(f"aion:chanq:{job.channel}") == 0


async def test_waiting_turn_of_a_dead_worker_is_requeued_a_bounded_number_of_times(
    bus: TurnBus,
) -> None:
    first = await _registered(bus)
    second = await _registered(bus, first.channel)
    job_id = second.turn_id
    for attempt in range(1, MAX_REQUEUES + 2):
        await bus.heartbeat("alive", 5)
        assert await bus.claim_and_wait(first.turn_id, first.channel, "alive", first.turn_id)
        await bus.redis.hset(meta_key(second.turn_id), "worker", f"dead-{attempt}")
        assert await bus.reap_if_orphaned(second.turn_id) is True
        job_id = f"{second.turn_id}-{attempt}"
        if attempt <= MAX_REQUEUES:
            assert await bus.redis.exists(job_key_prefix + job_id)
            assert await bus.read_after(second.turn_id, None) == []
    last = decode((await bus.read_after(second.turn_id, None))[-1].data)
    assert last.model_dump()["code"] == ErrorCode.WORKER_LOST


async def test_two_reapers_requeue_once(bus: TurnBus) -> None:
    """The api relay and a waiting worker may notice the same dead worker at once."""
    job = await _registered(bus)
    await bus.redis.hset(meta_key(job.turn_id), "worker", "dead")
    results = await asyncio.gather(*(bus.reap_if_orphaned(job.turn_id) for _ in range(5)))
    assert all(results)
    assert await bus.redis.hget(meta_key(job.turn_id), "job_id") == f"{job.turn_id}-1".encode()
    assert await bus.read_after(job.turn_id, None) == []  # nobody reported it lost


async def test_an_append_retried_after_its_reply_was_lost_is_stored_once(bus: TurnBus) -> None:
    """A worker retries an append when Redis restarted before answering: the writer's own
    sequence number tells Redis it has the event already."""
    job = await _registered(bus)
    first = await bus.append(job.turn_id, job.channel, TokenEvent(text="a"), seq=1)
    assert await bus.append(job.turn_id, job.channel, TokenEvent(text="a"), seq=1) == first
    second = await bus.append(job.turn_id, job.channel, TokenEvent(text="b"), seq=2)
    assert second != first
    done = await bus.append(job.turn_id, job.channel, DoneEvent(full_response="ab"), seq=3)
    assert await bus.append(job.turn_id, job.channel, DoneEvent(full_response="ab"), seq=3) == done
    assert [e.type for e in await bus.read_after(job.turn_id, None)] == ["token", "token", "done"]


async def test_events_appended_together_are_stored_in_order_and_once(bus: TurnBus) -> None:
    """A turn's last words, usage and `done` go in one round trip: in order, each announced,
    the turn's channel freed by the `done`, and a retry of the whole batch stores nothing
    twice."""
    job = await _registered(bus)
    await bus.append(job.turn_id, job.channel, TokenEvent(text="a"), seq=1)
    batch: list[tuple[Event, int]] = [
        (TokenEvent(text="b"), 2),
        (UsageEvent(input_tokens=3, output_tokens=2), 3),
        (DoneEvent(full_response="ab"), 4),
    ]
    async with bus.redis.pubsub() as live:
        await live.subscribe(live_channel(job.turn_id))
        await live.get_message(timeout=1.0)  # the subscription's confirmation
        ids = await bus.append_many(job.turn_id, job.channel, batch)
        announced = [await live.get_message(timeout=1.0) for _ in batch]
    assert all(ids) and len(set(ids)) == 3
    assert [m["data"].split(b"\n")[1] for m in announced if m] == [b"token", b"usage", b"done"]
    assert await bus.append_many(job.turn_id, job.channel, batch) == [ids[2]] * 3  # a retry
    stored = await bus.read_after(job.turn_id, None)
    assert [e.type for e in stored] == ["token", "token", "usage", "done"]
    assert [e.id for e in stored[1:]] == ids
    assert await bus.channel_head(job.channel) is None  # `done` freed the channel
    # Sealed by its `done`: nothing after it is stored, however it is sent.
    late: list[tuple[Event, int]] = [(TokenEvent(text="late"), 5), (TokenEvent(text="x"), 6)]
    assert await bus.append_many(job.turn_id, job.channel, late) == [None, None]


async def test_turn_its_live_worker_let_go_of_is_reaped_after_its_lease(bus: TurnBus) -> None:
    """The worker lives on (its heartbeat goes on) but the turn died without reaching Redis
    (it lost Redis for longer than it waits): the turn's own lease lapses, so the channel does
    not stay wedged behind it."""
    first = await _registered(bus)
    second = await _registered(bus, first.channel)
    assert await bus.claim_and_wait(first.turn_id, first.channel, "w5", first.turn_id) == "start"
    heartbeat = asyncio.create_task(_beat(bus, "w5", holding=[]))  # holds the turn no more
    try:
        waiting = bus.claim_and_wait(second.turn_id, second.channel, "w5", second.turn_id)
        assert await asyncio.wait_for(waiting, 5) == "start"
    finally:
        heartbeat.cancel()
    last = decode((await bus.read_after(first.turn_id, None))[-1].data)
    assert last.model_dump()["code"] == ErrorCode.WORKER_LOST


async def test_a_held_turn_keeps_its_lease_while_its_worker_beats(bus: TurnBus) -> None:
    job = await _registered(bus)
    assert await bus.claim_and_wait(job.turn_id, job.channel, "w6", job.turn_id) == "start"
    beats: list[float] = []
    heartbeat = asyncio.create_task(_beat(bus, "w6", holding=[job.turn_id], beats=beats))

    async def alive_for_three_leases() -> bool:
        assert await bus.reap_if_orphaned(job.turn_id) is False
        return len(beats) > 12  # four beats a lease

    try:
        await eventually(alive_for_three_leases, "three leases of heartbeats")
    finally:
        heartbeat.cancel()


async def test_turn_of_a_worker_of_the_previous_release_lives_as_long_as_its_worker(
    bus: TurnBus,
) -> None:
    """During a rolling update, a worker of the release before leases no turn: its own key
    (value "1") stands for its turns, as it did then."""
    job = await _registered(bus)
    await bus.redis.hset(meta_key(job.turn_id), mapping={"worker": "old", "started": "1"})
    await bus.redis.set("aion:worker:old", "1", px=300)
    await eventually(lambda: bus.reap_if_orphaned(job.turn_id), "its key to lapse", timeout=5)
    last = decode((await bus.read_after(job.turn_id, None))[-1].data)
    assert last.model_dump()["code"] == ErrorCode.WORKER_LOST


async def _beat(
    bus: TurnBus, worker_id: str, holding: list[str], beats: list[float] | None = None
) -> None:
    """What a worker's heartbeat task does, four times a lease."""
    while True:
        if holding:
            await bus.heartbeat(worker_id, bus.lease_ms / 1000, holding)
        else:
            await bus.heartbeat(worker_id, bus.lease_ms / 1000)
        if beats is not None:
            beats.append(time.monotonic())
        await asyncio.sleep(bus.lease_ms / 4000)
