"""Live notices (`GET /api/events`) on the real stack: a reminder that fires is announced (and
its turn's end on that channel), a reconnect with Last-Event-ID resumes exactly, a bad id is a
400, no credential is a 401, and the console's cookie opens the stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis

from shared import notices
from shared.notices import PluginFailedNotice
from shared.turn_keys import stream_id_key
from tests.conftest import API_TOKEN
from tests.plugin_helpers import run_tool
from tests.sse import SSEEvent, iter_events
from tests.stack import free_port


@asynccontextmanager
async def notice_stream(
    client: httpx.AsyncClient, last_event_id: str | None = None
) -> AsyncIterator[AsyncIterator[SSEEvent]]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with client.stream("GET", "/api/events", headers=headers, timeout=30) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield iter_events(response).__aiter__()


async def next_matching(
    events: AsyncIterator[SSEEvent], wanted: Any, timeout: float = 20
) -> SSEEvent:
    """The next event for which `wanted(event)` holds (others are skipped)."""
    async with asyncio.timeout(timeout):
        async for event in events:
            if wanted(event):
                return event
    raise AssertionError("the stream ended")


async def test_a_reminder_firing_is_a_notice_and_so_is_its_turn_ending(
    client: httpx.AsyncClient, channel: str
) -> None:
    async with notice_stream(client) as events:
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        added = await run_tool(client, channel, "reminder_add", text="water the plants", at=soon)
        assert added["ok"] is True, added
        # (The turn that set it ended on that channel too: a notice of its own, skipped here.)
        fired = await next_matching(
            events, lambda e: e.event == "reminder" and e.data["channel"] == channel
        )
        assert fired.id and fired.data["type"] == "reminder"
        assert fired.data["text"] == "water the plants"
        assert fired.data["reminder_id"] == added["result"]["id"]
        notices.decode(fired.raw.split("data: ", 1)[1])  # the shared schema reads it back
        finished = await next_matching(
            events, lambda e: e.event == "turn_finished" and e.data["channel"] == channel
        )
        assert finished.data["turn_id"] == fired.data["turn_id"]
        assert finished.data["outcome"] == "done"
        assert finished.data["preview"] == "You said: Reminder: water the plants"
        assert stream_id_key(finished.id or "") > stream_id_key(fired.id)


async def test_a_reconnect_with_last_event_id_misses_nothing_and_doubles_nothing(
    client: httpx.AsyncClient, redis_url: str
) -> None:
    marker = uuid.uuid4().hex[:8]
    redis = Redis.from_url(redis_url)

    async def send(n: int) -> None:
        notice = PluginFailedNotice(plugin=f"{marker}-{n}", error="ImportError: test")
        assert await notices.publish(redis, notice)

    def ours(event: SSEEvent) -> bool:
        return str(event.data.get("plugin", "")).startswith(marker)

    try:
        async with notice_stream(client) as events:
            for n in range(3):
                await send(n)
            first = await next_matching(events, ours)
            assert first.data["plugin"] == f"{marker}-0"
        # Gone: two more happen while the client is away.
        for n in range(3, 5):
            await send(n)
        async with notice_stream(client, first.id) as events:
            seen = [(await next_matching(events, ours)).data["plugin"] for _ in range(4)]
            await send(5)
            seen.append((await next_matching(events, ours)).data["plugin"])
        assert seen == [f"{marker}-{n}" for n in range(1, 6)]
        # 0-0: everything kept, ours in order, each once.
        async with notice_stream(client, "0-0") as events:
            replay = [(await next_matching(events, ours)).data["plugin"] for _ in range(6)]
        assert replay == [f"{marker}-{n}" for n in range(6)]
    finally:
        await redis.aclose()


async def test_the_same_notice_from_many_workers_goes_out_once(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        key = notices.once_key("test", uuid.uuid4().hex)
        notice = PluginFailedNotice(plugin="twice", error="boom")
        assert await notices.publish(redis, notice, once=key)
        assert await notices.publish(redis, notice, once=key) is None
    finally:
        await redis.aclose()


async def test_a_bad_last_event_id_is_a_400_that_says_why(client: httpx.AsyncClient) -> None:
    far_future = f"{(int(datetime.now(UTC).timestamp()) + 86400) * 1000}-0"
    for bad in ("yesterday", "12-x", "1-2-3", far_future):
        response = await client.get("/api/events", headers={"Last-Event-ID": bad})
        assert response.status_code == 400, (bad, response.text)
        assert "Last-Event-ID" in response.json()["detail"]


async def test_no_credential_is_a_401_and_the_console_cookie_opens_it(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/api/events")
    assert response.status_code == 401
    wrong = await anonymous.get("/api/events", headers={"Authorization": "Bearer nope" * 8})
    assert wrong.status_code == 401
    signed_in = await anonymous.post("/api/session", json={"token": API_TOKEN})
    assert signed_in.status_code == 204, signed_in.text
    async with anonymous.stream("GET", "/api/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")


async def test_a_plugin_that_failed_to_load_is_a_notice(client: httpx.AsyncClient) -> None:
    """The test plugins hold one broken on purpose: the worker said so as it loaded them."""
    async with notice_stream(client, "0-0") as events:
        failed = await next_matching(
            events, lambda e: e.event == "plugin_failed" and e.data["plugin"] == "broken"
        )
    assert "broken on purpose" in failed.data["error"]


async def test_an_mcp_server_that_cannot_be_reached_is_a_notice(client: httpx.AsyncClient) -> None:
    """Added at an address nobody listens on: the workers say so."""
    name = f"gone-{uuid.uuid4().hex[:8]}"
    url = f"http://127.0.0.1:{free_port()}/mcp"
    since = f"{int(datetime.now(UTC).timestamp() * 1000) - 1000}-0"
    async with notice_stream(client, since) as events:
        added = await client.post(
            "/api/mcp/servers", json={"name": name, "transport": "http", "url": url}
        )
        try:
            assert added.status_code == 201, added.text
            failed = await next_matching(
                events, lambda e: e.event == "mcp_server_failed" and e.data["server"] == name
            )
        finally:
            await client.delete(f"/api/mcp/servers/{name}")
    assert failed.data["error"]
