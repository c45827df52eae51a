"""Recall: the memories most relevant to the owner's message, for the turn's system prompt.

A memory is recalled when its vector is close to the message's (cosine similarity at least
MIN_SIMILARITY), or when it also matched by words and is at least loosely related
(TEXT_MIN_SIMILARITY): a shared name or number is strong evidence, a shared common word alone
is not. The best LIMIT go in, most relevant first, with a light preference for recent ones.
Recall never fails a turn: if the model or the database is not there, the turn goes on
without memories.
"""

from __future__ import annotations

import logging

from services.worker.context import WorkerContext
from services.worker.memory import store
from shared.db.memories import Memory

log = logging.getLogger("aion.worker.memory")

LIMIT = 5
MIN_SIMILARITY = 0.4
TEXT_MIN_SIMILARITY = 0.2
RECENCY_WEIGHT = 0.1


def relevant(memory: Memory) -> bool:
    similarity = memory.similarity or 0.0
    return similarity >= MIN_SIMILARITY or (memory.text_match and similarity >= TEXT_MIN_SIMILARITY)


async def recall(app: WorkerContext, message: str) -> list[Memory]:
    """Up to LIMIT memories for `message`; [] when there are none worth showing."""
    if not message.strip():
        return []
    try:
        if not await store.any_exist(app):  # no model run for an empty memory
            return []
        found = await store.search(
            app,
            message,
            limit=LIMIT * 2,
            min_similarity=TEXT_MIN_SIMILARITY,
            recency_weight=RECENCY_WEIGHT,
        )
    except Exception:
        log.exception("memory recall failed; the turn goes on without it")
        return []
    return [m for m in found if relevant(m)][:LIMIT]
