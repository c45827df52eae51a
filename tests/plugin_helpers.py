"""Helpers for the built-in plugin tests: ask the fake LLM for tool calls, read their results,
switch plugins on and off the way the api does."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from redis.asyncio import Redis

from shared.control import CONTROL_CHANNEL, PluginsChanged, encode_control
from shared.plugin_catalog import ack_key
from shared.turn_bus import WORKER_KEY_PREFIX
from tests.helpers import chat
from tests.sse import SSEEvent


def call(name: str, **args: Any) -> str:
    """The fake LLM directive that makes the model call `name` with `args`."""
    encoded = quote(json.dumps(args, separators=(",", ":")), safe="")
    return f"[[call={name}:{encoded}]]"


def results(events: list[SSEEvent]) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == "tool_result"]


async def run_tool(
    client: httpx.AsyncClient, channel: str, name: str, **args: Any
) -> dict[str, Any]:
    """One chat turn in which the model calls one tool; that call's `tool_result` data."""
    _, events = await chat(client, call(name, **args), channel)
    assert events[-1].type == "done", events[-1]
    found = results(events)
    assert len(found) == 1 and found[0]["name"] == name, events
    return found[0]


async def set_plugin(db: Any, redis_url: str, name: str, enabled: bool | None) -> None:
    """Store a plugin's state (None: back to its default) and wait until every live worker
    has applied it, as the api's enable/disable do."""
    if enabled is None:
        await db.execute("DELETE FROM plugin_state WHERE name = %s", (name,))
    else:
        await db.execute(
            """
            INSERT INTO plugin_state (name, enabled) VALUES (%s, %s)
            ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
            """,
            (name, enabled),
        )
    redis = Redis.from_url(redis_url)
    try:
        workers = {k async for k in redis.scan_iter(match=f"{WORKER_KEY_PREFIX}*")}
        request_id = uuid.uuid4().hex
        await redis.publish(CONTROL_CHANNEL, encode_control(PluginsChanged(request_id=request_id)))
        deadline = time.monotonic() + 10
        while await redis.hlen(ack_key(request_id)) < len(workers):
            assert time.monotonic() < deadline, "not every worker applied the plugin change"
            await asyncio.sleep(0.02)
    finally:
        await redis.aclose()
