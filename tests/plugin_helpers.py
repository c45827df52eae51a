"""Helpers for the built-in plugin tests: one tool call per chat turn, plugins on and off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.helpers import chat
from tests.test_agent import call as call_directive
from tests.test_agent import of_type


def call(name: str, **args: Any) -> str:
    """A chat message in which the model calls `name` with `args`."""
    return f"[[{call_directive(name, args)}]]"


async def run_tool(
    client: httpx.AsyncClient, channel: str, name: str, **args: Any
) -> dict[str, Any]:
    """One chat turn in which the model calls one tool; that call's `tool_result` data."""
    _, events = await chat(client, call(name, **args), channel)
    assert events[-1].type == "done", events[-1]
    found = of_type(events, "tool_result")
    assert len(found) == 1 and found[0]["name"] == name, events
    return found[0]


@asynccontextmanager
async def plugin_switched(
    client: httpx.AsyncClient, db: Any, name: str, *, enabled: bool
) -> AsyncIterator[None]:
    """The plugin on (or off) on every live worker, and back to its default afterwards."""
    action = "enable" if enabled else "disable"
    response = await client.post(f"/api/plugins/{action}", json={"name": name})
    assert response.status_code == 200 and response.json()["unconfirmed"] == [], response.text
    try:
        yield
    finally:
        await db.execute("DELETE FROM plugin_state WHERE name = %s", (name,))
        assert (await client.post("/api/plugins/reload")).status_code == 200
