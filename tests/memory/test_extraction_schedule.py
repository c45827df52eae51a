"""When a conversation is due for memory extraction, in PostgreSQL (shared/db/extraction.py):
turns that end while a worker reads the conversation leave it due as they would have had
nobody been reading, not at once (which made every later turn start a read of its own)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.rows import dict_row

from shared.db import conversations, extraction

EVERY = 3  # owner messages unread from which a read starts at once


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[dict[str, object]]]:
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as connection:
        yield connection


async def _turn(conn: psycopg.AsyncConnection[dict[str, object]], channel: str) -> bool:
    """One plain exchange; whether it made the conversation due at once."""
    turn_id = uuid.uuid4().hex
    started = await conversations.start_exchange(conn, channel, turn_id, "hello", 30)
    assert started is not None
    conversation_id = started[0]
    reply = [{"role": "assistant", "content": "hi"}]
    await conversations.add_turn_messages(conn, conversation_id, turn_id, reply)
    return await extraction.schedule(conn, conversation_id, at_once_from=EVERY)


async def _claim(
    conn: psycopg.AsyncConnection[dict[str, object]], channel: str
) -> extraction.Claim | None:
    cur = await conn.execute("SELECT id FROM conversations WHERE channel = %s", (channel,))
    row = await cur.fetchone()
    assert row is not None
    conversation_id = row["id"]
    assert isinstance(conversation_id, int)
    return await extraction.claim(
        conn, idle_seconds=3600, lease_seconds=60, conversation_id=conversation_id
    )


async def _due_at_once(conn: psycopg.AsyncConnection[dict[str, object]], channel: str) -> bool:
    cur = await conn.execute(
        "SELECT extract_after = '-infinity' AS at_once FROM conversations WHERE channel = %s",
        (channel,),
    )
    row = await cur.fetchone()
    return bool(row and row["at_once"])


async def test_turns_during_a_read_wait_for_their_own_batch(
    conn: psycopg.AsyncConnection[dict[str, object]],
) -> None:
    channel = f"schedule-{uuid.uuid4().hex[:8]}"
    assert [await _turn(conn, channel) for _ in range(EVERY)] == [False, False, True]
    claim = await _claim(conn, channel)
    assert claim is not None and claim.channel == channel
    await _turn(conn, channel)  # ends while the worker reads the first three
    await extraction.release(conn, claim.conversation_id, claim.last_id, at_once_from=EVERY)

    assert not await _due_at_once(conn, channel)  # one unread: due once idle
    assert [await _turn(conn, channel) for _ in range(EVERY - 1)] == [False, True]


async def test_a_closed_conversation_read_meanwhile_stays_due_at_once(
    conn: psycopg.AsyncConnection[dict[str, object]],
) -> None:
    channel = f"schedule-{uuid.uuid4().hex[:8]}"
    for _ in range(EVERY):
        await _turn(conn, channel)
    claim = await _claim(conn, channel)
    assert claim is not None and claim.channel == channel
    await _turn(conn, channel)
    assert await conversations.close_conversation(conn, channel)  # the owner resets it
    await extraction.release(conn, claim.conversation_id, claim.last_id, at_once_from=EVERY)
    assert await _due_at_once(conn, channel)
