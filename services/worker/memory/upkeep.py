"""Memory upkeep at worker start: vectors missing, or made by another embedding model (after the
owner switched AION_EMBEDDING_PROVIDER), are computed again, in batches, by one worker at a time."""

from __future__ import annotations

import logging

from pgvector import Vector

from services.worker.context import WorkerContext
from shared.db import memories as repo

log = logging.getLogger("aion.worker.memory")
_LOCK_KEY = "aion:memory:upkeep"
_LOCK_SECONDS = 600
_BATCH = 64


async def embed_stale(app: WorkerContext) -> None:
    """Give every memory a vector of the current model (nothing when another worker does it)."""
    if not await app.redis.set(_LOCK_KEY, app.worker_id, nx=True, ex=_LOCK_SECONDS):
        return
    done = 0
    try:
        while True:
            async with app.pool.connection() as conn:
                stale = await repo.without_current_embedding(conn, app.embedder.model, _BATCH)
            if not stale:
                break
            vectors = await app.embedder.embed([content for _, content in stale])
            rows = [(mid, Vector(v)) for (mid, _), v in zip(stale, vectors, strict=True)]
            async with app.pool.connection() as conn:
                await repo.set_embeddings(conn, rows, app.embedder.model)
            done += len(rows)
        if done:
            log.info("embedded %d memories again with %s", done, app.embedder.model)
    except Exception:
        log.exception("memory upkeep failed; it runs again at the next start")
    finally:
        await app.redis.delete(_LOCK_KEY)
