"""The chat path end to end: api → arq → worker → fake LLM → Redis → SSE bytes."""

from __future__ import annotations

import asyncio
import itertools

import httpx
from redis.asyncio import Redis

from tests.fakellm import FakeLLM
from tests.helpers import announce_settings_changed, chat, history, tokens_text
from tests.sse import collect, iter_events, parse_block


async def test_event_sequence_and_framing(client: httpx.AsyncClient, channel: str) -> None:
    async with client.stream(
        "POST", "/api/chat", json={"message": "hello there", "channel": channel}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        job = response.headers["x-aion-job"]
        raw = (await response.aread()).decode()

    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
    events = [e for e in (parse_block(b) for b in blocks) if e is not None]
    types = [e.type for e in events]
    assert types[-1] == "done" and types[-2] == "usage", types
    assert set(types[:-2]) == {"token"}
    for event in events:
        lines = event.raw.split("\n")
        assert lines[0].startswith("id: ") and lines[1] == f"event: {event.type}"
        assert lines[2].startswith("data: {") and len(lines) == 3
        assert event.event == event.type
    ids = [tuple(int(p) for p in e.id.split("-")) for e in events if e.id]
    assert ids == sorted(ids) and len(set(ids)) == len(events)

    done = events[-1].data
    assert done["full_response"] == "You said: hello there" == tokens_text(events)
    assert done["response_blocks"] == [{"type": "text", "content": "You said: hello there"}]
    assert done["approval_pending"] is False and "cancelled" not in done
    usage = events[-2].data
    assert usage["output_tokens"] > 0 and usage["input_tokens"] > 0
    assert len(job) == 32


async def test_history_is_sent_to_the_model_and_reset_starts_afresh(
    client: httpx.AsyncClient, channel: str
) -> None:
    await chat(client, "my name is Ada", channel)
    _, events = await chat(client, "who am I? [[echo_history]]", channel)
    echoed = events[-1].data["full_response"]
    # the latest message starts with AION's note for the turn (time, memories)
    assert (
        "user:my name is Ada | assistant:You said: my name is Ada | user:[Note from AION]" in echoed
    )
    assert echoed.endswith(" who am I? [[echo_history]]")
    assert echoed.startswith("system:")

    stored = await history(client, channel)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[0]["content"] == "my name is Ada"

    response = await client.post("/api/reset", json={"channel": channel})
    assert response.json() == {"ok": True}
    assert await history(client, channel) == []
    _, events = await chat(client, "again [[echo_history]]", channel)
    assert "Ada" not in events[-1].data["full_response"]


async def _set_setting(db, redis_url: str, key: str, value: str | None) -> None:
    """Write a setting the way the settings API does: the row, then `settings_changed`."""
    if value is None:
        await db.execute("DELETE FROM settings WHERE key = %s", (key,))
    else:
        await db.execute(
            "INSERT INTO settings (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )
    await announce_settings_changed(redis_url)  # returns once every worker applied it


async def test_max_history_turns_limits_what_the_model_sees(
    client: httpx.AsyncClient, channel: str, db, redis_url: str
) -> None:
    for n in range(4):
        await chat(client, f"note {n}", channel)
    await _set_setting(db, redis_url, "max_history_turns", "2")
    try:
        _, events = await chat(client, "recall [[echo_history]]", channel)
    finally:
        await _set_setting(db, redis_url, "max_history_turns", None)
    echoed = events[-1].data["full_response"]
    # two user turns of history, then the new message
    assert "user:note 2 | assistant:You said: note 2 | user:note 3" in echoed
    assert "note 1" not in echoed and "note 0" not in echoed


async def test_channels_lists_conversations(client: httpx.AsyncClient, channel: str) -> None:
    await chat(client, "ping", channel)
    listed = {c["id"]: c for c in (await client.get("/api/channels")).json()["channels"]}
    assert listed[channel]["count"] == 2
    assert listed[channel]["last_msg"] == "You said: ping"


FIRST_MS = 400


async def test_per_channel_order_and_no_cross_talk(client: httpx.AsyncClient) -> None:
    """20 chats at once on 4 channels: each channel runs its turns one at a time, in order."""
    channels = [f"order-{i}-{id(client)}" for i in range(4)]
    # Each provider call waits this long before its first token, so the first turns of the
    # channels overlap by a wide margin even when a busy machine starts them a little apart.
    directive = f" [[gap=10 first={FIRST_MS}]]"

    async def send_five(ch: str) -> list[tuple[str, str, float, float]]:
        streams = []
        for k in range(5):
            message = f"{ch} message {k}{directive}"
            response = await client.send(
                client.build_request("POST", "/api/chat", json={"message": message, "channel": ch}),
                stream=True,
            )
            assert response.status_code == 200
            streams.append((message, response))

        async def read(message: str, response: httpx.Response) -> tuple[str, str, float, float]:
            loop = asyncio.get_running_loop()
            first = None
            events = []
            async for event in iter_events(response):
                first = first or loop.time()
                events.append(event)
                if event.type in ("done", "error"):
                    break
            await response.aclose()
            assert events[-1].type == "done", events[-1]
            return message, events[-1].data["full_response"], first or 0.0, loop.time()

        return await asyncio.gather(*(read(m, r) for m, r in streams))

    results = await asyncio.gather(*(send_five(ch) for ch in channels))
    for ch, turns in zip(channels, results, strict=True):
        for message, reply, _, _ in turns:
            assert reply == "You said: " + message.replace(directive, "")
        stored = await history(client, ch)
        expected = []
        for message, _, _, _ in turns:
            text = message.replace(directive, "")
            expected += [("user", message), ("assistant", "You said: " + text)]
        assert [(m["role"], m["content"]) for m in stored] == expected
        # one at a time: each turn starts streaming after the previous one finished
        for (_, _, _, end), (_, _, start, _) in itertools.pairwise(turns):
            assert start >= end - 0.05
    # different channels run in parallel: the first turns' provider calls (which begin
    # FIRST_MS before their first token) overlap
    firsts = [turns[0] for turns in results]
    assert max(t[2] - FIRST_MS / 1000 for t in firsts) < min(t[3] for t in firsts)


async def test_resume_with_last_event_id(client: httpx.AsyncClient, channel: str) -> None:
    seen = []
    async with client.stream(
        "POST", "/api/chat", json={"message": "[[tokens=30 gap=30]]", "channel": channel}
    ) as response:
        job = response.headers["x-aion-job"]
        async for event in iter_events(response):
            seen.append(event)
            if len(seen) == 3:
                break
    async with client.stream(
        "GET", f"/api/chat/{job}/events", headers={"Last-Event-ID": seen[-1].id or ""}
    ) as response:
        assert response.status_code == 200
        rest = await collect(response)
    ids = [e.id for e in seen + rest]
    assert len(ids) == len(set(ids))
    assert rest[-1].type == "done"
    assert tokens_text(seen + rest) == rest[-1].data["full_response"]
    assert rest[-1].data["full_response"] == "".join(f"t{i} " for i in range(30))

    # after the end, a new reader replays the whole turn
    async with client.stream("GET", f"/api/chat/{job}/events") as response:
        replay = await collect(response)
    assert [e.id for e in replay] == ids


async def test_events_of_unknown_job_and_bad_last_event_id(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/chat/{'0' * 32}/events")
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    response = await client.get("/api/chat/not-a-job/events")
    assert response.status_code == 422
    response = await client.get(
        f"/api/chat/{'0' * 32}/events", headers={"Last-Event-ID": "garbage"}
    )
    assert response.status_code == 400 and "Last-Event-ID" in response.json()["detail"]


async def test_cancel_running_and_queued_turns(
    client: httpx.AsyncClient, channel: str, fake_llm: FakeLLM
) -> None:
    running = await client.send(
        client.build_request(
            "POST", "/api/chat", json={"message": "[[tokens=400 gap=25]]", "channel": channel}
        ),
        stream=True,
    )
    queued = await client.send(
        client.build_request(
            "POST", "/api/chat", json={"message": "never asked QX7", "channel": channel}
        ),
        stream=True,
    )
    running_events = iter_events(running)
    assert [(await anext(running_events)).type for _ in range(2)] == ["token", "token"]
    job = running.headers["x-aion-job"]
    assert (await client.post(f"/api/chat/{job}/cancel")).json() == {"ok": True}
    assert (
        await client.post(f"/api/chat/{queued.headers['x-aion-job']}/cancel")
    ).status_code == 200
    rest = [event async for event in running_events]
    await running.aclose()
    done = rest[-1].data
    assert done["type"] == "done" and done["cancelled"] is True
    assert 0 < len(done["full_response"]) < len("".join(f"t{i} " for i in range(400)))
    queued_events = await collect(queued)
    await queued.aclose()
    assert queued_events[-1].data == {
        "type": "done",
        "full_response": "",
        "response_blocks": [],
        "approval_pending": False,
        "cancelled": True,
    }
    assert not any("QX7" in str(r) for r in fake_llm.requests)
    # the partial answer is kept; the channel is free for the next turn
    _, events = await chat(client, "still there?", channel)
    assert events[-1].data["full_response"] == "You said: still there?"
    stored = await history(client, channel)
    assert stored[1]["content"] == done["full_response"]
    response = await client.post(f"/api/chat/{'f' * 32}/cancel")
    assert response.status_code == 404


async def test_readers_that_leave_early_leave_no_subscriptions_behind(
    client: httpx.AsyncClient, channel: str, redis_url: str
) -> None:
    jobs = []
    for n in range(5):
        async with client.stream(
            "POST",
            "/api/chat",
            json={"message": "[[tokens=20 gap=20]]", "channel": f"{channel}-{n}"},
        ) as response:
            jobs.append(response.headers["x-aion-job"])
            await anext(iter_events(response))  # then hang up mid-turn
    redis = Redis.from_url(redis_url)
    try:
        live = []
        for _ in range(50):
            await asyncio.sleep(0.1)
            channels = await redis.pubsub_channels("aion:turn:*")
            live = [c for c in channels if any(job in c.decode() for job in jobs)]
            if not live:
                break
        assert live == []
    finally:
        await redis.aclose()
