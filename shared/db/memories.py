"""Long-term memories: saving (the pieces a merge needs), newest first, hybrid search.

Hybrid search fuses two ranked lists with reciprocal rank fusion (RRF): the nearest vectors
(HNSW, cosine) and the best full-text matches (GIN). A row's score is the sum of 1/(60 + rank)
over the lists it is in, divided by the best possible sum, so 1.0 means "first in both";
an optional recency factor then favours memories saved or confirmed lately.

The full-text list ranks by the query's content words in both text configurations of the
`search` column (see migration 0008): stemmed ('english', stop words dropped) and verbatim
('simple', only for those same non-stop words, so "is" and "my" never match every row). A row
scores the sum of its words' rarity (an IDF), so "Zoltan" outweighs "number". A word that the
table's statistics (ANALYZE) put in thousands of rows is not looked up in the index at all: it
only ranks the candidates the other words and the vector list bring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pgvector import Vector

from shared.db import Conn

RRF_K = 60
GIN_FUZZY_LIMIT = 5000
# A word estimated in at least this many rows is not looked up in the full-text index: GIN would
# sample its rows anyway (GIN_FUZZY_LIMIT), and its weight is the lowest there is.
COMMON_WORD_ROWS = GIN_FUZZY_LIMIT
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


_HYBRID = """
WITH stats AS MATERIALIZED (
    -- How many rows hold each common word, estimated from ANALYZE's sample of the table.
    SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs,
        greatest(c.reltuples, 0) AS rows
    FROM pg_stats s JOIN pg_class c ON c.oid = 'memories'::regclass
    WHERE s.schemaname = current_schema() AND s.tablename = 'memories' AND s.attname = 'search'
), terms AS MATERIALIZED (
    -- stemmed words (stop words dropped), and the same words as typed (lower case); each
    -- word's estimate is computed once (the index lookup below tests it twice)
    SELECT term, coalesce(
        (SELECT st.freqs[array_position(st.elems, term)] * st.rows FROM stats st), 0) AS estimate
    FROM (
        SELECT unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS term
        UNION
        SELECT word FROM unnest(tsvector_to_array(to_tsvector('simple', %(text)s))) AS word
        WHERE to_tsvector('english', word) <> ''::tsvector
    ) AS words
    WHERE term <> ALL (%(ignored)s)
), weighted AS (
    -- A rare word tells more than a common one: weight each by ln(1 + 100 / rows with it),
    -- counting at most 100 rows. One index scan per word gives the count and the candidates.
    -- A word the statistics put in thousands of rows skips the index (reading its posting list
    -- alone costs milliseconds at a million rows): it only scores the other lists' candidates.
    SELECT q.q, hits.n >= 100 AS common, ln(1 + 100.0 / greatest(hits.n, 1)) AS idf, hits.ids
    FROM terms
    CROSS JOIN LATERAL (
        SELECT ('''' || replace(replace(term, '\\', '\\\\'), '''', '''''') || '''')::tsquery AS q
    ) AS q
    CROSS JOIN LATERAL (
        SELECT CASE WHEN terms.estimate >= %(common_rows)s THEN 100 ELSE count(*) END AS n,
            array_agg(id) AS ids
        FROM (
            SELECT id FROM memories m
            WHERE terms.estimate < %(common_rows)s AND m.search @@ q.q
                AND (%(category)s::text IS NULL OR m.category = %(category)s)
            LIMIT greatest(%(depth)s, 100)
        ) AS x
    ) AS hits
), vec AS MATERIALIZED (
    SELECT id, row_number() OVER (ORDER BY dist, id) AS rank
    FROM (
        SELECT id, embedding <=> %(embedding)s AS dist FROM memories
        WHERE %(category)s::text IS NULL OR category = %(category)s
        ORDER BY embedding <=> %(embedding)s LIMIT %(depth)s
    ) AS nearest
    WHERE dist <= 1 - %(min_similarity)s
), candidates AS (
    -- the rows with a rare word (up to `depth`), a few for each common one, and the nearest
    -- vectors (which the words then rank: a neighbour that holds the words comes first)
    SELECT unnest(CASE WHEN common THEN ids[1:20] ELSE ids END) AS id FROM weighted
    UNION
    SELECT id FROM vec
), txt AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id DESC) AS rank
    FROM (
        SELECT m.id, s.score FROM candidates c JOIN memories m ON m.id = c.id
        CROSS JOIN LATERAL (SELECT sum(w.idf) AS score FROM weighted w WHERE m.search @@ w.q) s
        WHERE s.score IS NOT NULL
        ORDER BY s.score DESC, m.id DESC LIMIT %(depth)s
    ) AS matched
), fused AS (
    SELECT coalesce(v.id, t.id) AS id, t.id IS NOT NULL AS text_match,
        (coalesce(1.0 / (%(k)s + v.rank), 0) + coalesce(1.0 / (%(k)s + t.rank), 0))
            / (2.0 / (%(k)s + 1)) AS rrf
    FROM vec v FULL JOIN txt t ON v.id = t.id
)
SELECT m.id, m.category, m.content, m.channel, m.source, m.turn_id, m.created_at, m.updated_at,
    (1 - (m.embedding <=> %(embedding)s))::float8 AS similarity, f.text_match,
    count(*) OVER () AS total,
    (f.rrf * ((1 - %(recency)s) + %(recency)s * power(0.5,
        extract(epoch FROM now() - m.updated_at) / 86400.0 / %(half_life)s)))::float8 AS score
FROM fused f JOIN memories m ON m.id = f.id
ORDER BY score DESC, m.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


async def search(conn: Conn, query: SearchQuery) -> tuple[list[Memory], int]:
    """Hybrid search; returns a page of matches, best first, and how many matched in all (up to
    `depth` from each list). Runs in its own transaction so the HNSW settings stay local."""
    depth = max(1, min(query.depth, 1000))
    async with conn.transaction():
        await conn.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " set_config('hnsw.iterative_scan', %s, true),"
            " set_config('gin_fuzzy_search_limit', %s, true),"
            # The planner's HNSW cost grows with the LIMIT: past ~100 rows it would rather sort
            # the whole table (10x the time at 10k rows). Every list here has an index to use.
            " set_config('enable_seqscan', 'off', true)",
            (
                str(min(max(query.ef_search, depth), 1000)),
                # A category filter drops neighbours after the index scan: keep scanning then.
                "relaxed_order" if query.category else "off",
                # A word in most rows need not list them all: only the first `depth` are used.
                str(GIN_FUZZY_LIMIT),
            ),
        )
        # Never prepared: a generic plan, blind to `depth`, may sort the whole table rather
        # than walk the HNSW index (seen at 10k rows: 5x the CPU).
        cur = await conn.execute(
            _HYBRID,
            {
                "text": query.text,
                "embedding": query.embedding,
                "category": query.category,
                "depth": depth,
                "min_similarity": query.min_similarity,
                "recency": query.recency_weight,
                "half_life": query.half_life_days,
                "k": RRF_K,
                "ignored": list(IGNORED_WORDS),
                "common_rows": query.common_word_rows,
                "limit": query.limit,
                "offset": query.offset,
            },
            prepare=False,
        )
        rows = await cur.fetchall()
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
