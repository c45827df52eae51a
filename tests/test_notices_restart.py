"""Live notices across a Redis restart, on a real api and a Redis server of this module's own
(append-only file on, as in compose): an open notices stream keeps going and delivers what
happens after Redis came back, once; a stream whose Redis stays away ends, and a reconnect
with its last id gets what it missed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from shared import notices
from shared.notices import PluginFailedNotice
from tests.fault_helpers import owner_client
from tests.redis_server import RedisServer
from tests.sse import SSEEvent, iter_events
from tests.stack import Stack

RELAY_GRACE_SECONDS = 4


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("notices-redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_only(
    service_env: dict[str, str], own_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        **service_env,
        "REDIS_URL": own_redis.url,
        "AION_RELAY_REDIS_GRACE_SECONDS": str(RELAY_GRACE_SECONDS),
    }
    stack = Stack(env=env, log_dir=tmp_path_factory.mktemp("notices-restart-logs"))
    try:
        stack.start_api()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def http(api_only: Stack, own_redis: RedisServer) -> AsyncIterator[httpx.AsyncClient]:
    if not own_redis.alive():  # a failed test may have left it down
        own_redis.restart()
    async with owner_client(api_only) as client:
        yield client


async def publish(url: str, plugin: str) -> None:
    redis = Redis.from_url(url)
    try:
        assert await notices.publish(redis, PluginFailedNotice(plugin=plugin, error="test"))
    finally:
        await redis.aclose()


async def next_event(events: AsyncIterator[SSEEvent], timeout: float = 30) -> SSEEvent:
    async with asyncio.timeout(timeout):
        return await anext(events)


async def test_an_open_stream_outlives_a_redis_restart(
    http: httpx.AsyncClient, own_redis: RedisServer
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with http.stream("GET", "/api/events") as response:
        assert response.status_code == 200
        events = iter_events(response).__aiter__()
        await publish(own_redis.url, f"{marker}-before")
        before = await next_event(events)
        assert before.data["plugin"] == f"{marker}-before"
        own_redis.shutdown()
        own_redis.restart()
        await publish(own_redis.url, f"{marker}-after")
        after = await next_event(events)
        assert after.data["plugin"] == f"{marker}-after"  # not `before` again, nothing lost
        assert (after.id or "") > (before.id or "")


async def test_a_stream_whose_redis_stays_away_ends_and_resumes_with_its_last_id(
    http: httpx.AsyncClient, own_redis: RedisServer
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with http.stream("GET", "/api/events") as response:
        events = iter_events(response).__aiter__()
        await publish(own_redis.url, f"{marker}-1")
        last = await next_event(events)
        own_redis.shutdown()
        with pytest.raises(StopAsyncIteration):  # the api gives up after its grace period
            await next_event(events, timeout=RELAY_GRACE_SECONDS + 20)
    own_redis.restart()
    await publish(own_redis.url, f"{marker}-2")
    headers = {"Last-Event-ID": last.id or ""}
    async with http.stream("GET", "/api/events", headers=headers) as response:
        assert response.status_code == 200
        resumed = await next_event(iter_events(response).__aiter__())
        assert resumed.data["plugin"] == f"{marker}-2"
