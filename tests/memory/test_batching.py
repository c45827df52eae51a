"""Batched memory extraction end to end (the real api and worker processes, PostgreSQL, Redis
and the fake LLM): every fact a per-turn extraction would keep is kept, with about one model
request per plain turn; when the history window would drop an exchange, on reset, and across a
worker that dies."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from shared.db import extraction
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.helpers import chat, eventually
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_memories", "fresh_settings")
SLOW = 90.0  # an extraction embeds its facts with the local model: slow on a busy machine


async def set_owner_settings(client: httpx.AsyncClient, **values: Any) -> None:
    response = await client.post("/api/config/settings", json=values)
    assert response.status_code == 200, response.text


def fact(channel: str, i: int) -> str:
    # A name made of the channel and the number: grounded only by the owner message saying it.
    return f"The owner's friend F{channel[-6:]}n{i} plays chess."


async def say_facts(client: httpx.AsyncClient, channel: str, numbers: range) -> None:
    for i in numbers:
        _, events = await chat(
            client,
            f"My friend F{channel[-6:]}n{i} plays chess. {{{{fact: {fact(channel, i)}}}}}",
            channel,
        )
        assert events[-1].type == "done", events[-1]


async def memories(client: httpx.AsyncClient, channel: str) -> set[str]:
    body = (await client.get("/api/memory", params={"limit": 200})).json()
    return {e["content"] for e in body["entries"] if e["channel"] == channel}


def requests(fake: FakeLLM, channel: str) -> tuple[int, int]:
    """(turn requests, extraction requests) the fake got for the channel."""
    turns = extractions = 0
    for r in fake.requests:
        first = str(r["messages"][0].get("content"))
        if MEMORY_EXTRACTION_MARKER in first:
            extractions += f"F{channel[-6:]}n" in str(r["messages"])
        elif f"Channel: {channel}." in first:
            turns += 1
    return turns, extractions


async def test_every_fact_is_kept_with_about_one_request_per_turn(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    await set_owner_settings(
        client, memory_extract_idle_seconds=3600, memory_extract_every_turns=10
    )
    await say_facts(client, channel, range(10))
    # after the 10th owner message: one call read all ten exchanges
    await eventually(
        lambda: _has(client, channel, {fact(channel, i) for i in range(10)}),
        "ten facts",
        timeout=SLOW,
    )
    assert requests(fake_llm, channel) == (10, 1)
    await say_facts(client, channel, range(10, 12))
    assert requests(fake_llm, channel) == (12, 1)
    assert await memories(client, channel) == {fact(channel, i) for i in range(10)}
    # the conversation goes quiet: the last two are read together
    await set_owner_settings(client, memory_extract_idle_seconds=1)
    want = {fact(channel, i) for i in range(12)}
    await eventually(lambda: _has(client, channel, want), "all twelve facts", timeout=SLOW)
    turns, extractions = requests(fake_llm, channel)
    assert (turns, extractions) == (12, 2)
    assert (turns + extractions) / turns <= 1.2  # it was 2.0 with one extraction per turn


async def _has(client: httpx.AsyncClient, channel: str, want: set[str]) -> bool:
    return await memories(client, channel) == want


async def test_read_before_the_history_window_drops_it_and_on_reset(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    await set_owner_settings(client, memory_extract_idle_seconds=3600, max_history_turns=3)
    await say_facts(client, channel, range(3))
    # The next turn's history holds the last three owner messages, its own included: the
    # first exchange would leave the model's view unread, so all three are read now.
    await eventually(
        lambda: _has(client, channel, {fact(channel, i) for i in range(3)}),
        "three facts",
        timeout=SLOW,
    )
    await say_facts(client, channel, range(3, 5))
    assert requests(fake_llm, channel)[1] == 1
    # A reset takes the whole history out of view: what is unread is read at once.
    assert (await client.post("/api/reset", json={"channel": channel})).is_success
    await eventually(
        lambda: _has(client, channel, {fact(channel, i) for i in range(5)}),
        "five facts",
        timeout=SLOW,
    )
    assert requests(fake_llm, channel) == (5, 2)


async def test_nothing_is_lost_when_workers_die(
    client: httpx.AsyncClient,
    fake_llm: FakeLLM,
    channel: str,
    stack: Stack,
    database_url: str,
) -> None:
    await set_owner_settings(client, memory_extract_idle_seconds=3600)
    await say_facts(client, channel, range(3))
    # Every worker dies before the conversation went quiet; a new one starts.
    for worker in stack.live_workers():
        worker.kill()
    stack.start_worker()
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        # A worker claims the conversation and dies while reading it: its claim holds a while.
        row = await (
            await conn.execute("SELECT id FROM conversations WHERE channel = %s", (channel,))
        ).fetchone()
        assert row is not None
        claim = await extraction.claim(
            conn,
            idle_seconds=0,
            lease_seconds=2,
            conversation_id=row["id"],
        )
        assert claim is not None and claim.channel == channel
        await set_owner_settings(client, memory_extract_idle_seconds=1)
        # once the claim has lapsed, the new worker reads all three
        await eventually(
            lambda: _has(client, channel, {fact(channel, i) for i in range(3)}),
            "three facts",
            timeout=SLOW,
        )
    assert requests(fake_llm, channel) == (3, 1)
