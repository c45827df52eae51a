"""Redis restarted under a running turn, on real processes: a Redis server of this module's own
(append-only file on, as in compose), killed with SIGKILL or stopped cleanly mid-answer, and the
real api and worker, which are never restarted.

Each test says what the client saw (parsed from the SSE bytes), what PostgreSQL holds after,
and that the model was asked once per turn (no turn ran twice).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakellm import FakeLLM
from tests.fault_helpers import (
    Turn,
    api_and_worker,
    assert_in_order_once,
    counted,
    model_calls,
    owner_client,
    stored_messages,
)
from tests.helpers import chat, eventually, tokens_text
from tests.redis_server import RedisServer
from tests.sse import iter_events
from tests.stack import Stack

LEASE_SECONDS = 2
WORKER_GRACE_SECONDS = 8  # how long a worker's turn waits for Redis to come back
RELAY_GRACE_SECONDS = 12  # how long the api's relay does


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-aof")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fault_stack(
    service_env: dict[str, str], own_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        **service_env,
        "REDIS_URL": own_redis.url,
        "AION_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "AION_WORKER_REDIS_GRACE_SECONDS": str(WORKER_GRACE_SECONDS),
        "AION_RELAY_REDIS_GRACE_SECONDS": str(RELAY_GRACE_SECONDS),
    }
    with api_and_worker(env, tmp_path_factory.mktemp("redis-restart-logs")) as stack:
        yield stack


@pytest.fixture
async def http(fault_stack: Stack, own_redis: RedisServer) -> AsyncIterator[httpx.AsyncClient]:
    if not own_redis.alive():  # a failed test may have left it down
        own_redis.restart()
    async with owner_client(fault_stack) as client:
        yield client


def worker_noticed(worker_log: str) -> int:
    """How often the worker logged a turn's write to Redis failing (retried, or fatal)."""
    return worker_log.count("Redis unreachable") + worker_log.count("turn failed")


@pytest.fixture
def channel() -> str:
    return f"redis-restart-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("stop", ["sigkill", "clean shutdown"])
async def test_redis_restarted_mid_answer_the_client_gets_the_rest_and_queued_turns_run(
    http: httpx.AsyncClient,
    fault_stack: Stack,
    own_redis: RedisServer,
    fake_llm: FakeLLM,
    database_url: str,
    channel: str,
    stop: str,
) -> None:
    """Redis goes away 2 s into a 6-second answer, with a second message queued behind it, and
    comes back once the worker has noticed. The client sees the whole answer (from a SIGKILL
    the stream may skip an event Redis lost, never repeat one: `done` still has it all), then
    the queued message runs, then a new one; the history holds all three, each answered."""
    marker = uuid.uuid4().hex[:8]
    first = await Turn.open(http, f"[[tokens=60 gap=100]] long {marker}", channel)
    await first.read_until(1)
    queued = await Turn.open(http, f"after {marker}", channel)
    await first.read_until(20)
    worker = fault_stack.workers[0]
    before = worker_noticed(worker.log())

    if stop == "sigkill":
        own_redis.kill()
    else:
        own_redis.shutdown()
    # Back once the turn has tried to write without it (the worker says so in its log).
    await eventually(
        lambda: worker_noticed(worker.log()) > before, "the worker to notice that Redis is gone"
    )
    own_redis.restart()

    events = await first.read_to_end()
    assert first.last.type == "done", first.last
    assert first.last.data["full_response"] == counted(60)
    assert_in_order_once(events, counted(60))
    if stop == "clean shutdown":  # the append-only file kept every event
        assert tokens_text(events) == counted(60)

    after = await queued.read_to_end()
    assert after[-1].type == "done", after[-1]
    assert after[-1].data["full_response"] == f"You said: after {marker}"

    _, next_events = await chat(http, f"next {marker}", channel)
    assert next_events[-1].type == "done", next_events[-1]
    assert next_events[-1].data["full_response"] == f"You said: next {marker}"

    assert await stored_messages(database_url, channel) == [
        ("user", f"[[tokens=60 gap=100]] long {marker}"),
        ("assistant", counted(60)),
        ("user", f"after {marker}"),
        ("assistant", f"You said: after {marker}"),
        ("user", f"next {marker}"),
        ("assistant", f"You said: next {marker}"),
    ]
    assert model_calls(fake_llm, f"long {marker}") == 1
    assert model_calls(fake_llm, f"after {marker}") == 1


async def test_redis_down_past_every_grace_gives_a_clear_error_and_frees_the_channel(
    http: httpx.AsyncClient,
    fault_stack: Stack,
    own_redis: RedisServer,
    fake_llm: FakeLLM,
    database_url: str,
    channel: str,
) -> None:
    """Redis stays away longer than the worker and the relay wait for it. Both clients (the
    running turn's and the queued one's) get an `error` without an id, saying the stream ends
    and the turn may still finish; once Redis is back the channel is not wedged: the turn that
    had started ends `worker_lost` (its question stays unanswered, as for any failed turn), the
    one that had not started runs once, then the next message."""
    marker = uuid.uuid4().hex[:8]
    first = await Turn.open(http, f"[[tokens=200 gap=100]] doomed {marker}", channel)
    await first.read_until(1)
    queued = await Turn.open(http, f"after {marker}", channel)
    await first.read_until(15)

    own_redis.kill()
    for turn in (first, queued):
        events = await turn.read_to_end()
        assert events[-1].type == "error", events[-1]
        assert events[-1].data["code"] == "interrupted"
        assert "Redis" in events[-1].data["message"]
        assert events[-1].id is None  # resuming goes on after the last event it did get
    own_redis.restart()

    _, next_events = await chat(http, f"next {marker}", channel)
    assert next_events[-1].type == "done", next_events[-1]
    assert next_events[-1].data["full_response"] == f"You said: next {marker}"

    async with http.stream("GET", f"/api/chat/{first.job}/events") as resumed:
        replay = [e async for e in iter_events(resumed)]
    assert replay[-1].type == "error"
    assert replay[-1].data["code"] == "worker_lost"
    async with http.stream("GET", f"/api/chat/{queued.job}/events") as resumed:
        replay = [e async for e in iter_events(resumed)]
    assert replay[-1].type == "done", replay[-1]
    assert replay[-1].data["full_response"] == f"You said: after {marker}"

    assert await stored_messages(database_url, channel) == [
        ("user", f"[[tokens=200 gap=100]] doomed {marker}"),
        ("user", f"after {marker}"),
        ("assistant", f"You said: after {marker}"),
        ("user", f"next {marker}"),
        ("assistant", f"You said: next {marker}"),
    ]
    assert model_calls(fake_llm, f"doomed {marker}") == 1
    assert model_calls(fake_llm, f"after {marker}") == 1
