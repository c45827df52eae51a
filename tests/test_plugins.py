"""Plugins: enable, disable and reload reach every worker before the call returns."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tests.conftest import PLUGINS_DIR
from tests.fakellm import FakeLLM
from tests.helpers import chat
from tests.stack import Stack
from tests.test_agent import call, of_type, requests_for


@pytest.fixture
def two_workers(stack: Stack) -> Stack:
    while len(stack.live_workers()) < 2:
        stack.start_worker()
    return stack


@pytest.fixture
async def restore_plugins(
    db: psycopg.AsyncConnection[tuple[object, ...]], client: httpx.AsyncClient
) -> AsyncIterator[None]:
    yield
    await db.execute("DELETE FROM plugin_state")
    assert (await client.post("/api/plugins/reload")).status_code == 200


def turn_worker(stack: Stack, turn_id: str) -> str:
    """The worker that ran a turn (its id as kept in the turn's Redis record)."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        worker = client.hget(f"aion:turn:{{{turn_id}}}:meta", "worker")
    finally:
        client.close()
    return worker.decode() if worker else ""


def offered(fake: FakeLLM, channel: str) -> set[str]:
    return {t["function"]["name"] for t in requests_for(fake, channel)[-1].get("tools", [])}


async def test_disable_and_enable_reach_both_workers_at_once(
    client: httpx.AsyncClient,
    two_workers: Stack,
    fake_llm: FakeLLM,
    restore_plugins: None,
    channel: str,
) -> None:
    response = await client.post("/api/plugins/disable", json={"name": "testkit"})
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "disabled": "testkit", "unconfirmed": []}
    channels = [f"{channel}-{n}" for n in range(6)]  # turns land on both workers
    for ch in channels:
        _, events = await chat(client, f"[[{call('echo', {'text': 'x'})}]]", ch)
        assert of_type(events, "tool_result")[0]["ok"] is False
        assert "echo" not in offered(fake_llm, ch) and "current_time" in offered(fake_llm, ch)
    listed = {p["name"]: p for p in (await client.get("/api/plugins")).json()["plugins"]}
    assert listed["testkit"]["enabled"] is False and listed["testkit"]["loaded"] is False

    response = await client.post("/api/plugins/enable", json={"name": "testkit"})
    assert response.json() == {"ok": True, "enabled": "testkit", "unconfirmed": []}
    for ch in channels:
        _, events = await chat(client, f"[[{call('echo', {'text': 'y'})}]]", ch)
        assert of_type(events, "tool_result")[0]["result"] == "echo:y"


async def test_a_plugin_disabled_via_another_api_is_gone_on_both_workers(
    client: httpx.AsyncClient,
    two_workers: Stack,
    fake_llm: FakeLLM,
    restore_plugins: None,
    channel: str,
) -> None:
    other = two_workers.start_extra_api()
    try:
        async with httpx.AsyncClient(base_url=other.url, headers=client.headers) as api_b:
            response = await api_b.post("/api/plugins/disable", json={"name": "testkit"})
        assert response.json()["unconfirmed"] == []
    finally:
        other.stop()
    served: set[str] = set()
    for n in range(20):  # through api A, until turns have landed on both workers
        ch = f"{channel}-{n}"
        headers, events = await chat(client, f"[[{call('echo', {'text': 'x'})}]]", ch)
        assert of_type(events, "tool_result")[0]["ok"] is False
        assert "echo" not in offered(fake_llm, ch)
        served.add(turn_worker(two_workers, headers["x-aion-job"]))
        if len(served) == 2:
            break
    assert len(served) == 2, served


async def test_a_plugin_off_by_default_is_offered_once_enabled(
    client: httpx.AsyncClient, fake_llm: FakeLLM, restore_plugins: None, channel: str
) -> None:
    listed = {p["name"]: p for p in (await client.get("/api/plugins")).json()["plugins"]}
    # Listed from its manifest; its code is not even imported while it is off (its register()
    # would have named its tools), a reload included.
    assert listed["dormant"]["enabled"] is False and listed["dormant"]["loaded"] is False
    assert listed["dormant"]["disabled"] is True  # the old clients' name
    assert listed["dormant"]["description"] == "Off until the owner turns it on."
    assert listed["dormant"]["tools"] == []
    assert (await client.post("/api/plugins/reload")).status_code == 200
    listed = {p["name"]: p for p in (await client.get("/api/plugins")).json()["plugins"]}
    assert listed["dormant"]["tools"] == []
    await chat(client, "hello", channel)
    assert "wake_up" not in offered(fake_llm, channel)
    assert (await client.post("/api/plugins/enable", json={"name": "dormant"})).status_code == 200
    listed = {p["name"]: p for p in (await client.get("/api/plugins")).json()["plugins"]}
    assert listed["dormant"]["loaded"] is True and listed["dormant"]["disabled"] is False
    assert listed["dormant"]["tools"] == [
        {"name": "wake_up", "description": "Says it is awake.", "risk": "safe", "loaded": True}
    ]
    _, events = await chat(client, f"[[{call('wake_up')}]]", channel)
    assert of_type(events, "tool_result")[0]["result"] == "awake"


async def test_reload_picks_up_new_plugin_code_on_every_worker(
    client: httpx.AsyncClient, two_workers: Stack, restore_plugins: None, channel: str
) -> None:
    name = f"hot{uuid.uuid4().hex[:6]}"
    folder: Path = PLUGINS_DIR / name
    folder.mkdir()
    try:
        (folder / "plugin.json").write_text(f'{{"name": "{name}", "version": "1"}}')
        (folder / "__init__.py").write_text(
            "from pydantic import BaseModel\n"
            "class A(BaseModel):\n    pass\n"
            "async def fn(ctx, args):\n    return 'v1'\n"
            f"def register(r):\n    r.add('{name}_tool', 'Hot.', A, fn)\n"
        )
        response = await client.post("/api/plugins/reload")
        body = response.json()
        assert response.status_code == 200 and body["unconfirmed"] == []
        assert f"{name}_tool" in body["tools"] and body["count"] == len(body["tools"])
        (folder / "__init__.py").write_text(
            (folder / "__init__.py").read_text().replace("'v1'", "'v2'")
        )
        assert (await client.post("/api/plugins/reload")).status_code == 200
        for n in range(4):
            _, events = await chat(client, f"[[{call(f'{name}_tool')}]]", f"{channel}-{n}")
            assert of_type(events, "tool_result")[0]["result"] == "v2"
    finally:
        shutil.rmtree(folder)
    body = (await client.post("/api/plugins/reload")).json()
    assert f"{name}_tool" not in body["tools"]


async def test_unknown_plugin_and_bad_bodies(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/plugins/enable", json={"name": "nope"})
    assert response.status_code == 404 and "testkit" in response.json()["detail"]
    for body in ({}, {"name": ""}, {"name": 3}, {"name": "core", "x": 1}):
        assert (await client.post("/api/plugins/disable", json=body)).status_code == 422, body
