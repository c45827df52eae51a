"""Long-term memory from the api's side: list or search, delete.

A search's query is embedded by a worker (shared/embed_rpc.py): the model never runs in the
api. Vector neighbours count as matches from MIN_SIMILARITY on; every full-text match counts.
"""

from __future__ import annotations

import time

from services.api.context import AppContext
from services.api.errors import NotFound
from services.api.query_embedding import embed_query
from services.api.schemas.memory import MemoryEntry, MemoryPage
from shared import metrics
from shared.db import Conn
from shared.db import memories as repo
from shared.db.memories import Memory, SearchQuery

MIN_SIMILARITY = 0.3
# Candidates per list; deeper pages search deeper (up to MAX_SEARCH_DEPTH). The HNSW beam is at
# least this wide, so it sets the vector search's cost (bench/memory_search.py).
SEARCH_DEPTH = 100
MAX_SEARCH_DEPTH = 1000


def _entry(memory: Memory, with_score: bool) -> MemoryEntry:
    """`score` is only set (and so only sent) for search results."""
    score = {"score": round(memory.score or 0.0, 4)} if with_score else {}
    return MemoryEntry(
        id=memory.id,
        timestamp=memory.updated_at,
        category=memory.category,
        content=memory.content,
        channel=memory.channel,
        **score,
    )


async def entries(
    ctx: AppContext,
    conn: Conn,
    *,
    search: str | None,
    limit: int,
    offset: int,
    category: str | None,
) -> MemoryPage:
    text = (search or "").strip()
    if not text:
        found, total = await repo.newest(conn, limit=limit, offset=offset, category=category)
    else:
        query = SearchQuery(
            text=text,
            embedding=await embed_query(ctx, text, search="Memory search"),
            limit=limit,
            offset=offset,
            category=category,
            depth=min(max(SEARCH_DEPTH, offset + limit), MAX_SEARCH_DEPTH),
            min_similarity=MIN_SIMILARITY,
        )
        started = time.perf_counter()
        found, total = await repo.search(conn, query)
        metrics.memory_search(time.perf_counter() - started)
    items = [_entry(m, bool(text)) for m in found]
    return MemoryPage(
        entries=items, total=total, returned=len(items), has_more=offset + len(items) < total
    )


async def delete_one(conn: Conn, memory_id: int) -> None:
    if not await repo.delete(conn, memory_id):
        raise NotFound(f"No memory with id {memory_id}.")


async def delete_all(conn: Conn) -> int:
    return await repo.delete_all(conn)
