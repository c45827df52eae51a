"""Small client helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from redis.asyncio import Redis

from shared.control import CONTROL_CHANNEL, SettingsChanged, ack_key, encode_control
from shared.turn_keys import WORKER_KEY_PREFIX
from tests.sse import SSEEvent, collect


async def chat(
    client: httpx.AsyncClient, message: str, channel: str, **extra: Any
) -> tuple[httpx.Headers, list[SSEEvent]]:
    """Send one chat message and read its whole event stream."""
    body = {"message": message, "channel": channel, **extra}
    async with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200, await response.aread()
        return response.headers, await collect(response)


def fresh_address() -> str:
    """A client address of a test's own (sent as X-Forwarded-For; the stack trusts loopback)."""
    return str(ipaddress.IPv4Address(0x0A000000 | random.getrandbits(24)))


def tokens_text(events: list[SSEEvent]) -> str:
    return "".join(e.data["text"] for e in events if e.type == "token")


async def history(client: httpx.AsyncClient, channel: str) -> list[dict[str, Any]]:
    response = await client.get("/api/history", params={"channel": channel})
    assert response.status_code == 200
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def announce_settings_changed(redis_url: str) -> None:
    """What the api does after a settings or prompt write: tell every worker, and wait until
    each live one has acknowledged it (shared/control.py)."""
    redis = Redis.from_url(redis_url)
    try:
        request_id = uuid.uuid4().hex
        workers = {
            key.decode().removeprefix(WORKER_KEY_PREFIX)
            async for key in redis.scan_iter(match=f"{WORKER_KEY_PREFIX}*")
        }
        message = SettingsChanged(request_id=request_id)
        await redis.publish(CONTROL_CHANNEL, encode_control(message))

        async def all_acknowledged() -> bool:
            acked = {worker.decode() for worker in await redis.hkeys(ack_key(request_id))}
            return workers <= acked

        await eventually(all_acknowledged, "every worker to apply the settings", timeout=10)
    finally:
        await redis.aclose()


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], what: str, timeout: float = 30.0
) -> None:
    """Wait until `check()` holds (polled every 50 ms), or fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        await asyncio.sleep(0.05)
