"""Long-term memories: saving (the pieces a merge needs), newest first, hybrid search.

Hybrid search (shared/db/hybrid.py: nearest vectors and full-text matches fused with RRF) over
the memories, optionally of one category; an optional recency factor then favours memories
saved or confirmed lately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pgvector import Vector

from shared.db import Conn, hybrid
from shared.db.hybrid import COMMON_WORD_ROWS

# In nearly every memory ("The owner's sister..."): as a search word it would only cost time.
IGNORED_WORDS = ("owner", "owners", "owner's")
# Saves take this lock so two workers saving the same fact at once still merge it.
_SAVE_LOCK = 74205


@dataclass(frozen=True, slots=True)
class Memory:
    id: int
    category: str
    content: str
    channel: str | None
    source: str
    turn_id: str | None
    created_at: datetime
    updated_at: datetime
    score: float | None = None
    similarity: float | None = None  # cosine similarity to the query (searches only)
    text_match: bool = False  # found by the full-text list


@dataclass(frozen=True, slots=True)
class NewMemory:
    content: str
    category: str
    source: str  # 'tool' (memory_save), 'auto' (extraction), ...
    channel: str | None
    turn_id: str | None
    embedding: Vector
    embedding_model: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    embedding: Vector
    limit: int = 10
    offset: int = 0
    category: str | None = None
    depth: int = 100  # candidates taken from each list before fusing
    ef_search: int = 100  # HNSW beam width (at least `depth` is used)
    min_similarity: float = 0.0  # vector neighbours below this are not matches
    recency_weight: float = 0.0  # 0: relevance only; 1: a memory half_life old scores half
    half_life_days: float = 90.0
    common_word_rows: int = COMMON_WORD_ROWS  # words estimated in this many rows skip the index


def _memory(row: dict[str, Any]) -> Memory:
    return Memory(
        id=row["id"],
        category=row["category"],
        content=row["content"],
        channel=row["channel"],
        source=row["source"],
        turn_id=row["turn_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        score=row.get("score"),
        similarity=row.get("similarity"),
        text_match=bool(row.get("text_match")),
    )


async def lock_saves(conn: Conn) -> None:
    """Inside the saving transaction: one saver at a time, so a fact saved twice at once by two
    workers is still merged."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SAVE_LOCK,))


@dataclass(frozen=True, slots=True)
class Duplicate:
    memory: Memory
    same_text: bool  # the same normalised text (else only a close vector)


async def duplicates(
    conn: Conn, content: str, embedding: Vector, *, min_similarity: float, limit: int = 5
) -> list[Duplicate]:
    """Memories that may say the same as `content`: the one with the same normalised text
    (first), then the nearest vectors at least `min_similarity` close."""
    cur = await conn.execute(
        """
        SELECT id, category, content, channel, source, turn_id, created_at, updated_at,
               1.0::float8 AS similarity, true AS same_text
        FROM memories
        WHERE md5(content_key) = md5(btrim(regexp_replace(lower(%(content)s),
                                            '[^[:alnum:]]+', ' ', 'g')))
        UNION ALL
        SELECT * FROM (
            SELECT id, category, content, channel, source, turn_id, created_at, updated_at,
                   (1 - (embedding <=> %(embedding)s))::float8 AS similarity, false
            FROM memories ORDER BY embedding <=> %(embedding)s LIMIT %(limit)s
        ) AS nearest
        WHERE similarity >= %(similarity)s
        """,
        {"content": content, "embedding": embedding, "similarity": min_similarity, "limit": limit},
    )
    return [Duplicate(_memory(r), r["same_text"]) async for r in cur]


async def insert(conn: Conn, new: NewMemory) -> int:
    cur = await conn.execute(
        """
        INSERT INTO memories (category, content, source, channel, turn_id, embedding,
                              embedding_model)
        VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id
        """,
        (
            new.category,
            new.content,
            new.source,
            new.channel,
            new.turn_id,
            new.embedding,
            new.embedding_model,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["id"])


async def confirm(conn: Conn, memory_id: int, category: str) -> None:
    """The memory was stated again: it counts as saved now."""
    await conn.execute(
        "UPDATE memories SET category = %s, updated_at = now() WHERE id = %s",
        (category, memory_id),
    )


async def reword(conn: Conn, memory_id: int, new: NewMemory) -> None:
    """The memory was stated again in other words, which replace the old ones."""
    await conn.execute(
        """
        UPDATE memories SET content = %s, category = %s, source = %s, channel = %s,
            turn_id = %s, embedding = %s, embedding_model = %s, updated_at = now()
        WHERE id = %s
        """,
        (
            new.content,
            new.category,
            new.source,
            new.channel,
            new.turn_id,
            new.embedding,
            new.embedding_model,
            memory_id,
        ),
    )


async def get(conn: Conn, memory_id: int) -> Memory | None:
    cur = await conn.execute(
        "SELECT id, category, content, channel, source, turn_id, created_at, updated_at"
        " FROM memories WHERE id = %s",
        (memory_id,),
    )
    row = await cur.fetchone()
    return _memory(row) if row else None


async def delete(conn: Conn, memory_id: int) -> bool:
    cur = await conn.execute("DELETE FROM memories WHERE id = %s", (memory_id,))
    return cur.rowcount > 0


async def delete_all(conn: Conn) -> int:
    cur = await conn.execute("DELETE FROM memories")
    return cur.rowcount


async def any_exist(conn: Conn) -> bool:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM memories) AS any")
    row = await cur.fetchone()
    return bool(row and row["any"])


async def newest(
    conn: Conn, *, limit: int, offset: int, category: str | None = None
) -> tuple[list[Memory], int]:
    """A page of memories, most recently saved or confirmed first, and how many there are."""
    cur = await conn.execute(
        """
        SELECT id, category, content, channel, source, turn_id, created_at, updated_at,
            (SELECT count(*) FROM memories
                            WHERE %(category)s::text IS NULL OR category = %(category)s) AS total
        FROM memories WHERE %(category)s::text IS NULL OR category = %(category)s
        ORDER BY updated_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s
        """,
        {"category": category, "limit": limit, "offset": offset},
    )
    rows = await cur.fetchall()
    if rows:
        return [_memory(r) for r in rows], int(rows[0]["total"])
    return [], await count(conn, category)


async def count(conn: Conn, category: str | None = None) -> int:
    cur = await conn.execute(
        "SELECT count(*) AS n FROM memories WHERE %(c)s::text IS NULL OR category = %(c)s",
        {"c": category},
    )
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


_HYBRID = hybrid.query(
    "memories",
    "(%(category)s::text IS NULL OR category = %(category)s)",
    """
SELECT m.id, m.category, m.content, m.channel, m.source, m.turn_id, m.created_at, m.updated_at,
    (1 - (m.embedding <=> %(embedding)s))::float8 AS similarity, f.text_match,
    count(*) OVER () AS total,
    (f.rrf * ((1 - %(recency)s) + %(recency)s * power(0.5,
        extract(epoch FROM now() - m.updated_at) / 86400.0 / %(half_life)s)))::float8 AS score
FROM fused f JOIN memories m ON m.id = f.id
ORDER BY score DESC, m.id DESC
LIMIT %(limit)s OFFSET %(offset)s
""",
)


async def search(conn: Conn, query: SearchQuery) -> tuple[list[Memory], int]:
    """Hybrid search; returns a page of matches, best first, and how many matched in all (up to
    `depth` from each list). Runs in its own transaction so the HNSW settings stay local."""
    depth = max(1, min(query.depth, 1000))
    params = hybrid.parameters(query.text, query.embedding, depth, query.min_similarity)
    params.update(
        category=query.category,
        recency=query.recency_weight,
        half_life=query.half_life_days,
        ignored=list(IGNORED_WORDS),
        common_rows=query.common_word_rows,
        limit=query.limit,
        offset=query.offset,
    )
    rows = await hybrid.fetch(
        conn, _HYBRID, params, ef_search=query.ef_search, filtered=query.category is not None
    )
    if rows:
        return [_memory(r) for r in rows], int(rows[0]["total"])
    if query.offset == 0:
        return [], 0
    # Past the last page: count the matches again without a page.
    _, total = await search(conn, replace(query, offset=0, limit=1))
    return [], total


async def without_current_embedding(conn: Conn, model: str, limit: int) -> list[tuple[int, str]]:
    """Memories whose vector is missing or was made by another model (to embed again)."""
    cur = await conn.execute(
        """
        SELECT id, content FROM memories
        WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM %s
        ORDER BY id LIMIT %s
        """,
        (model, limit),
    )
    return [(r["id"], r["content"]) async for r in cur]


async def set_embeddings(conn: Conn, rows: Sequence[tuple[int, Vector]], model: str) -> None:
    async with conn.transaction():
        for memory_id, embedding in rows:
            await conn.execute(
                "UPDATE memories SET embedding = %s, embedding_model = %s WHERE id = %s",
                (embedding, model, memory_id),
            )
