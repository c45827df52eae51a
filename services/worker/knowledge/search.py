"""Searching the knowledge base from the worker: for the `knowledge_search` tool and for recall
before a turn (when the owner turned `knowledge_recall` on).

Recall keeps a chunk whose vector is close to the owner's message (cosine similarity at least
RECALL_MIN_SIMILARITY), or that also matched by words and is at least loosely related, as
memory recall does. Recall never fails a turn: without the model or the database, the turn goes
on without documents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from pgvector import Vector

from services.worker.context import WorkerContext
from shared import metrics
from shared.db import knowledge as repo
from shared.db.knowledge import Hit, KnowledgeQuery

log = logging.getLogger("aion.worker.knowledge")

MAX_QUERY_CHARS = 2000
SEARCH_DEPTH = 50  # candidates per list (as the agent's memory searches)
RECALL_LIMIT = 3
RECALL_MIN_SIMILARITY = 0.35
RECALL_TEXT_MIN_SIMILARITY = 0.2
# Names the source of a turn's untrusted content when recall put passages in its prompt.
RECALL_SOURCE = "the knowledge base (recalled passages)"


async def search(
    app: WorkerContext,
    text: str,
    *,
    limit: int,
    file_ids: Sequence[str] | None = None,
    min_similarity: float = 0.0,
) -> list[Hit]:
    """The best chunks for `text`, best first."""
    text = text[:MAX_QUERY_CHARS]
    vectors = await app.embedder.embed([text])
    query = KnowledgeQuery(
        text=text,
        embedding=Vector(vectors[0]),
        limit=limit,
        file_ids=file_ids,
        depth=max(SEARCH_DEPTH, limit),
        min_similarity=min_similarity,
    )
    started = time.perf_counter()
    async with app.pool.connection() as conn:
        found = await repo.search(conn, query)
    metrics.knowledge_search(time.perf_counter() - started)
    return found


def relevant(hit: Hit) -> bool:
    return hit.similarity >= RECALL_MIN_SIMILARITY or (
        hit.text_match and hit.similarity >= RECALL_TEXT_MIN_SIMILARITY
    )


async def recall(app: WorkerContext, message: str) -> list[Hit]:
    """Up to RECALL_LIMIT chunks for `message`; [] when none is worth showing."""
    if not message.strip():
        return []
    try:
        async with app.pool.connection() as conn:
            if not await repo.any_indexed(conn):  # no model run without documents
                return []
        found = await search(
            app, message, limit=RECALL_LIMIT * 2, min_similarity=RECALL_TEXT_MIN_SIMILARITY
        )
    except Exception:
        log.exception("knowledge recall failed; the turn goes on without it")
        return []
    return [h for h in found if relevant(h)][:RECALL_LIMIT]
