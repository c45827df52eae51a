"""Model requests per plain turn over one conversation, memory on (issue 21: one extraction
call per turn made it 2.0).

One channel, `turns` plain messages one after another with the owner's settings as they are
(memory extraction every `memory_extract_every_turns`), then the conversation goes quiet (the
idle wait is shortened to 1 s for this) so whatever is still unread is read too: the count is
taken once PostgreSQL says the conversation has nothing left to read and no worker is reading
it. The figure is every chat request the fake LLM received meanwhile — the turns' and the
extractions' — divided by the turns.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import psycopg

from bench.overhead.common import log


async def requests_per_turn(
    llm_url: str, api_url: str, api_token: str, database_url: str, turns: int = 20
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_token}"}
    async with (
        httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as api,
        httpx.AsyncClient(base_url=llm_url, timeout=10) as llm,
    ):
        before = await _count(llm)
        channel = f"bench-conversation-{uuid.uuid4().hex[:8]}"
        for n in range(turns):
            body = {"message": f"plain message {n}, nothing to act on", "channel": channel}
            async with api.stream("POST", "/api/chat", json=body) as response:
                response.raise_for_status()
                async for _ in response.aiter_bytes():
                    pass
        owner_settings = (await api.get("/api/config")).json()["settings"]
        idle = owner_settings["memory_extract_idle_seconds"]
        await _set(api, memory_extract_idle_seconds=1)
        try:
            await _all_read(database_url, channel)
            total = await _count(llm) - before
        finally:
            await _set(api, memory_extract_idle_seconds=idle)
    figure = round(total / turns, 3)
    log(f"model requests per plain turn (memory on, {turns} turns): {figure}")
    return {"turns": turns, "model_requests": total, "per_turn": figure}


async def _count(llm: httpx.AsyncClient) -> int:
    return int((await llm.get("/_requests/count")).json()["count"])


async def _set(api: httpx.AsyncClient, **values: Any) -> None:
    (await api.post("/api/config/settings", json=values)).raise_for_status()


async def _all_read(database_url: str, channel: str, limit: float = 60.0) -> None:
    """Until the channel's conversation has no owner message left unread for memory
    extraction, none due and no worker holding it (an extraction's model calls are all made
    before it lets go); with memory off, what was said is marked as never to be read."""
    deadline = time.monotonic() + limit
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        while True:
            cur = await conn.execute(
                """
                SELECT bool_and(c.extract_after IS NULL AND c.extract_lease_until IS NULL
                    AND NOT EXISTS (
                        SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                        AND m.role = 'user' AND m.id > c.extracted_upto AND m.content <> ''))
                FROM conversations c WHERE c.channel = %s
                """,
                (channel,),
            )
            row = await cur.fetchone()
            if row is not None and row[0] is True:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{channel}: memory extraction not done within {limit:g} s")
            await asyncio.sleep(0.1)
