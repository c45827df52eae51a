"""The worker's memory operations: embed, then save (merging duplicates), search or forget.

Used by the memory plugin's tools, by recall before a turn and by extraction after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pgvector import Vector

from services.worker.context import WorkerContext
from shared.db import memories as repo
from shared.db.memories import Memory, NewMemory, Saved, SearchQuery

MAX_CONTENT_CHARS = 2000
MAX_QUERY_CHARS = 2000
DEFAULT_CATEGORY = "general"
CATEGORY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Cosine similarity at or above which a new memory restates an old one. Rewordings of one fact
# score 0.95-0.99 with the local model; the same sentence about another person or number
# ("sister Anna" / "sister Maria") stays below 0.93 (tests/test_memory_store.py).
DUPLICATE_SIMILARITY = 0.95


class InvalidMemory(ValueError):
    """Content or category a memory cannot have; the message says why."""


@dataclass(frozen=True, slots=True)
class Candidate:
    content: str
    category: str = DEFAULT_CATEGORY


def clean_content(content: str) -> str:
    text = " ".join(content.split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidMemory("a memory needs some words")
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidMemory(f"a memory is at most {MAX_CONTENT_CHARS} characters")
    return text


def clean_category(category: str | None) -> str:
    value = (category or DEFAULT_CATEGORY).strip().lower()
    if not CATEGORY.match(value):
        raise InvalidMemory("category: lowercase letters, digits, '_' or '-', at most 32")
    return value


async def save(
    app: WorkerContext,
    candidates: Sequence[Candidate],
    *,
    source: str,
    channel: str | None,
    turn_id: str | None,
) -> list[Saved]:
    """Embed all candidates in one batch and save each (a duplicate merges into its original)."""
    items = [(clean_content(c.content), clean_category(c.category)) for c in candidates]
    if not items:
        return []
    vectors = await app.embedder.embed([content for content, _ in items])
    saved: list[Saved] = []
    async with app.pool.connection() as conn:
        for (content, category), vector in zip(items, vectors, strict=True):
            new = NewMemory(
                content=content,
                category=category,
                source=source,
                channel=channel,
                turn_id=turn_id,
                embedding=Vector(vector),
                embedding_model=app.embedder.model,
            )
            saved.append(await repo.save(conn, new, duplicate_similarity=DUPLICATE_SIMILARITY))
    return saved


async def search(
    app: WorkerContext,
    text: str,
    *,
    limit: int,
    category: str | None = None,
    min_similarity: float = 0.0,
    recency_weight: float = 0.0,
) -> list[Memory]:
    """Hybrid search for `text`, best first."""
    text = text[:MAX_QUERY_CHARS]
    vectors = await app.embedder.embed([text])
    query = SearchQuery(
        text=text,
        embedding=Vector(vectors[0]),
        limit=limit,
        category=clean_category(category) if category else None,
        depth=max(50, limit),
        min_similarity=min_similarity,
        recency_weight=recency_weight,
    )
    async with app.pool.connection() as conn:
        found, _ = await repo.search(conn, query)
    return found


async def forget(app: WorkerContext, memory_id: int) -> bool:
    async with app.pool.connection() as conn:
        return await repo.delete(conn, memory_id)


async def any_exist(app: WorkerContext) -> bool:
    async with app.pool.connection() as conn:
        return await repo.any_exist(conn)
