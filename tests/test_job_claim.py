"""The worker takes queued jobs in one Redis call per poll, with arq's check-and-set: only a
queued, due job that runs nowhere else is taken, and by one worker only."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis.exceptions
from arq import func
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms

from services.worker.job_claim import JobClaimer
from services.worker.runner import AionWorker
from shared.jobs import deserialize_job, serialize_job

QUEUE = "aion:test-claims"


def _claimer(redis: ArqRedis) -> JobClaimer:
    return JobClaimer(redis, QUEUE, in_progress_key_prefix)


async def _queue(redis: ArqRedis, count: int, **options: Any) -> list[str]:
    ids = [uuid.uuid4().hex for _ in range(count)]
    for job_id in ids:
        job = await redis.enqueue_job("noted", job_id, _job_id=job_id, _queue_name=QUEUE, **options)
        assert job is not None
    return ids


async def test_only_queued_due_jobs_running_nowhere_are_taken(queue_redis: ArqRedis) -> None:
    due, running = await _queue(queue_redis, 2)
    (later,) = await _queue(queue_redis, 1, _defer_by=3600)
    await queue_redis.psetex(in_progress_key_prefix + running, 60_000, b"1")
    gone = uuid.uuid4().hex  # finished and removed from the queue

    now = timestamp_ms()
    taken = await _claimer(queue_redis).claim([due, running, later, gone], now, 30_000)

    assert taken[0] == int(await queue_redis.zscore(QUEUE, due) or 0) and taken[0] > 0
    assert taken[1:] == [None, None, None]
    assert 0 < await queue_redis.pttl(in_progress_key_prefix + due) <= 30_000
    assert not await queue_redis.exists(in_progress_key_prefix + later)
    assert not await queue_redis.exists(in_progress_key_prefix + gone)
    # Taken once: a second claim of the same job finds it in progress.
    assert await _claimer(queue_redis).claim([due], now, 30_000) == [None]


async def test_racing_claimers_take_each_job_once(queue_redis: ArqRedis) -> None:
    ids = await _queue(queue_redis, 50)
    now = timestamp_ms()
    claims = await asyncio.gather(
        *(_claimer(queue_redis).claim(ids[i:] + ids[:i], now, 30_000) for i in range(0, 50, 10))
    )
    winners: dict[str, int] = {}
    for offset, taken in zip(range(0, 50, 10), claims, strict=True):
        for job_id, score in zip(ids[offset:] + ids[:offset], taken, strict=True):
            if score is not None:
                winners[job_id] = winners.get(job_id, 0) + 1
    assert winners == dict.fromkeys(ids, 1)


def _worker(redis: ArqRedis, job: Any, slots: int) -> AionWorker:
    """A worker of `slots` slots for the test queue, on `redis`'s database, running `job`."""
    kwargs = redis.connection_pool.connection_kwargs
    return AionWorker(
        functions=[func(job, name="noted")],
        queue_name=QUEUE,
        redis_settings=RedisSettings(
            host=kwargs.get("host", "127.0.0.1"),
            port=kwargs.get("port", 6379),
            database=kwargs.get("db", 0),
        ),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        max_jobs=slots,
        burst=True,
        handle_signals=False,
        wake=asyncio.Event(),
        draining=asyncio.Event(),
        idle_poll=0.05,
    )


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # arq's own close
async def test_workers_with_few_slots_run_every_job_once(queue_redis: ArqRedis) -> None:
    """Two workers of three slots each share 40 jobs: each job runs exactly once."""
    runs: list[str] = []

    async def noted(_ctx: dict[str, Any], job_id: str) -> None:
        runs.append(job_id)
        await asyncio.sleep(0)

    ids = await _queue(queue_redis, 40)
    workers = [_worker(queue_redis, noted, 3), _worker(queue_redis, noted, 3)]
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(w.main() for w in workers))
    finally:
        for w in workers:
            await w.close()
    assert sorted(runs) == sorted(ids)
    assert sum(w.jobs_complete for w in workers) == 40


class _RedisGone:
    async def claim(self, *_args: object) -> list[int | None]:
        raise redis.exceptions.ConnectionError("Connection closed by server.")


async def test_a_claim_that_fails_gives_its_slots_back(queue_redis: ArqRedis) -> None:
    """Redis went away while the worker took a batch: the slots it had taken for it are free
    again (the poll is retried), not lost until the worker restarts."""

    async def noted(_ctx: dict[str, Any], _job_id: str) -> None:
        return None

    worker = _worker(queue_redis, noted, 3)
    worker._claimer = _RedisGone()  # type: ignore[assignment]
    with pytest.raises(redis.exceptions.ConnectionError):
        await worker.start_jobs([b"a", b"b", b"c"])
    assert worker.job_counter == 0
    assert await worker._take_slots(["a", "b", "c"]) == ["a", "b", "c"]  # all three free
