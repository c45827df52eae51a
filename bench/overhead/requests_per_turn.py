"""Model requests per plain turn over one conversation, memory on (issue 21: one extraction
call per turn made it 2.0).

One channel, `turns` plain messages one after another with the owner's settings as they are
(memory extraction every `memory_extract_every_turns`), then the conversation goes quiet (the
idle wait is shortened to 1 s for this) so whatever is still unread is read too. The figure is
every chat request the fake LLM received meanwhile — the turns' and the extractions' — divided
by the turns.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from bench.overhead.common import log

SETTLE_SECONDS = 3.0  # no new request for this long: the conversation's calls are all in


async def requests_per_turn(
    llm_url: str, api_url: str, api_token: str, turns: int = 20
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
            total = await _settled(llm) - before
        finally:
            await _set(api, memory_extract_idle_seconds=idle)
    figure = round(total / turns, 3)
    log(f"model requests per plain turn (memory on, {turns} turns): {figure}")
    return {"turns": turns, "model_requests": total, "per_turn": figure}


async def _count(llm: httpx.AsyncClient) -> int:
    return int((await llm.get("/_requests/count")).json()["count"])


async def _set(api: httpx.AsyncClient, **values: Any) -> None:
    (await api.post("/api/config/settings", json=values)).raise_for_status()


async def _settled(llm: httpx.AsyncClient, limit: float = 60.0) -> int:
    """The request count once it has not moved for SETTLE_SECONDS (at most `limit` s)."""
    deadline = time.monotonic() + limit
    seen, since = await _count(llm), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = await _count(llm)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLE_SECONDS:
            break
    return seen
