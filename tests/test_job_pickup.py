"""Taking queued arq jobs in one script (services/worker/job_pickup.py), against real Redis:
only jobs that are due, still queued and in progress nowhere are taken, each by one taker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms

from services.worker.job_pickup import JobTaker

QUEUE = "aion:test-pickup"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    parts = urlsplit(redis_url)
    own_db = urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 2}"))
    pool = await create_pool(RedisSettings.from_dsn(own_db), default_queue_name=QUEUE)
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


async def _queued(redis: ArqRedis, **options: object) -> str:
    job_id = uuid.uuid4().hex
    assert await redis.enqueue_job("f", _job_id=job_id, **options) is not None  # type: ignore[arg-type]
    return job_id


async def test_takes_due_queued_jobs_not_in_progress_and_marks_them(redis: ArqRedis) -> None:
    due, running, later = [await _queued(redis) for _ in range(3)]
    deferred = await _queued(redis, _defer_by=timedelta(minutes=5))
    await redis.set(in_progress_key_prefix + running, b"1")
    await redis.zrem(QUEUE, later)  # finished meanwhile: arq dropped it from the queue
    taker = JobTaker(redis, QUEUE, in_progress_ms=60_000)
    taken = await taker.take([due, running, later, deferred, "unknown"], timestamp_ms())
    assert [job_id for job_id, _ in taken] == [due]
    assert taken[0][1] == int(await redis.zscore(QUEUE, due) or 0)
    ttl = await redis.pttl(in_progress_key_prefix + due)
    assert 0 < ttl <= 60_000
    assert await taker.take([due], timestamp_ms()) == []  # in progress now: not twice


async def test_concurrent_takers_take_each_job_once(redis: ArqRedis) -> None:
    ids = [await _queued(redis) for _ in range(60)]
    takers = [JobTaker(redis, QUEUE, in_progress_ms=60_000) for _ in range(4)]
    batches = await asyncio.gather(
        *(t.take(ids[i * 15 :] + ids[: i * 15], timestamp_ms()) for i, t in enumerate(takers))
    )
    taken = [job_id for batch in batches for job_id, _ in batch]
    assert sorted(taken) == sorted(ids)
