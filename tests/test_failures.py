"""What happens when the outside world or a worker fails: the client always gets an end."""

from __future__ import annotations

import time

import httpx
import redis
from arq.constants import in_progress_key_prefix, job_key_prefix

from shared.turn_keys import meta_key
from tests.helpers import chat, eventually, history
from tests.sse import iter_events
from tests.stack import Stack


async def test_provider_error_ends_the_turn_and_the_next_turn_works(
    client: httpx.AsyncClient, channel: str
) -> None:
    _, events = await chat(client, "break [[fail=500]]", channel)
    assert [e.type for e in events] == ["error"]
    assert events[0].data["code"] == "provider_error"
    assert "500" in events[0].data["message"]
    assert "sk-test" not in events[0].raw

    _, events = await chat(client, "fine now", channel)
    assert events[-1].data["full_response"] == "You said: fine now"
    # the failed turn's question stays in the history, unanswered
    assert [m["content"] for m in await history(client, channel)] == [
        "break [[fail=500]]",
        "fine now",
        "You said: fine now",
    ]


async def test_stream_cut_off_mid_answer_is_an_error(
    client: httpx.AsyncClient, channel: str
) -> None:
    _, events = await chat(client, "[[tokens=10 drop=3]]", channel)
    assert events[-1].type == "error"
    assert events[-1].data["code"] == "provider_error"
    assert "".join(e.data["text"] for e in events if e.type == "token") == "t0 t1 t2 "


async def test_killed_worker_gives_error_within_ten_seconds_and_frees_the_channel(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    stack.start_worker()  # a second worker keeps the system serving after the kill
    response = await client.send(
        client.build_request(
            "POST", "/api/chat", json={"message": "[[tokens=1000 gap=50]]", "channel": channel}
        ),
        stream=True,
    )
    job = response.headers["x-aion-job"]
    events = iter_events(response)
    first = await anext(events)
    assert first.type == "token"

    queued = await client.send(
        client.build_request("POST", "/api/chat", json={"message": "after", "channel": channel}),
        stream=True,
    )
    owner = redis.Redis.from_url(stack.env["REDIS_URL"]).hget(meta_key(job), "worker")
    assert owner is not None
    victim = next(w for w in stack.live_workers() if f"-{w.pid}-" in owner.decode())
    victim.kill()
    killed_at = time.monotonic()

    rest = [e async for e in events]
    await response.aclose()
    assert rest[-1].type == "error"
    assert rest[-1].data["code"] == "worker_lost"
    assert time.monotonic() - killed_at < 10

    # The turn queued behind it still runs, on the surviving worker (had the killed worker
    # taken it already, it had not started, so it was handed to a new job).
    after = [e async for e in iter_events(queued)]
    await queued.aclose()
    assert after[-1].type == "done", after[-1]
    assert after[-1].data["full_response"] == "You said: after"

    # and the channel is free for the next turn
    _, next_events = await chat(client, "next", channel)
    assert next_events[-1].data["full_response"] == "You said: next"


async def test_late_reader_of_a_lost_turn_gets_the_error(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    """The lease is checked by any reader, even one that connects after the worker died."""
    stack.start_worker()
    response = await client.send(
        client.build_request(
            "POST", "/api/chat", json={"message": "[[tokens=1000 gap=50]]", "channel": channel}
        ),
        stream=True,
    )
    job = response.headers["x-aion-job"]
    await anext(iter_events(response))
    await response.aclose()
    owner = redis.Redis.from_url(stack.env["REDIS_URL"]).hget(meta_key(job), "worker")
    assert owner is not None
    next(w for w in stack.live_workers() if f"-{w.pid}-" in owner.decode()).kill()  # waits
    async with client.stream("GET", f"/api/chat/{job}/events") as resumed:
        events = [e async for e in iter_events(resumed)]
    assert events[-1].data["code"] == "worker_lost"


async def test_worker_killed_between_pickup_and_claim(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    """arq handed the job out, but the worker died before it claimed the turn: nothing had
    happened yet, so the turn gets a new job and runs once a worker is there."""
    for worker in stack.live_workers():
        worker.stop()
    response = await client.send(
        client.build_request("POST", "/api/chat", json={"message": "hi", "channel": channel}),
        stream=True,
    )
    job = response.headers["x-aion-job"]
    sync_redis = redis.Redis.from_url(stack.env["REDIS_URL"])
    # what a worker's pickup leaves in Redis (arq's own key), with no worker left to claim it
    sync_redis.set(in_progress_key_prefix + job, b"1", px=60_000)
    await eventually(
        lambda: sync_redis.hget(meta_key(job), "job_id") != job.encode(),
        "the relay to hand the turn to a new job",
        10,
    )

    # arq may hand the old job out again too: it must not run the turn a second time
    sync_redis.delete(in_progress_key_prefix + job)
    stack.start_worker()
    events = [e async for e in iter_events(response)]
    await response.aclose()
    assert events[-1].type == "done", events[-1]
    assert events[-1].data["full_response"] == "You said: hi"
    await eventually(
        lambda: not sync_redis.exists(job_key_prefix + job), "the old job to be dropped", 20
    )
    assert [m["content"] for m in await history(client, channel)] == ["hi", "You said: hi"]
