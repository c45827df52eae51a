"""Hybrid search, shared by memories and knowledge chunks: nearest vectors and best full-text
matches fused with reciprocal rank fusion (RRF).

A table searched this way has `id`, `embedding vector` (HNSW, cosine) and a generated `search
tsvector` in the 'english' and 'simple' configurations (GIN), as migrations 0008 and 0016
define. `fused_ctes` gives the CTEs up to `fused (id, text_match, rrf)`; each repository adds
its own final SELECT (its columns, any recency factor). A row's `rrf` is the sum of 1/(60 +
rank) over the lists it is in, divided by the best possible sum, so 1.0 means "first in both".

The full-text list ranks by the query's content words in both configurations: stemmed (stop
words dropped) and verbatim (only for those same non-stop words, so "is" and "my" never match
every row). A row scores the sum of its words' rarity (an IDF), so "Zoltan" outweighs "number".
A word that the table's statistics (ANALYZE) put in thousands of rows is not looked up in the
index at all: it only ranks the candidates the other words and the vector list bring.

Parameters every query takes: text, embedding, depth, min_similarity, k, ignored (words never
searched), common_rows; plus whatever the caller's `where` uses.
"""

from __future__ import annotations

from typing import Any, LiteralString

from psycopg import sql
from psycopg.rows import DictRow

from shared.db import Conn

RRF_K = 60
GIN_FUZZY_LIMIT = 5000
# A word estimated in at least this many rows is not looked up in the full-text index: GIN would
# sample its rows anyway (GIN_FUZZY_LIMIT), and its weight is the lowest there is.
COMMON_WORD_ROWS = GIN_FUZZY_LIMIT

_FUSED = """
stats AS MATERIALIZED (
    -- How many rows hold each common word, estimated from ANALYZE's sample of the table.
    SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs,
        greatest(c.reltuples, 0) AS rows
    FROM pg_stats s JOIN pg_class c ON c.oid = {name}::regclass
    WHERE s.schemaname = current_schema() AND s.tablename = {name} AND s.attname = 'search'
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
    WHERE term <> ALL (%(ignored)s::text[])
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
            SELECT id FROM {table} m
            WHERE terms.estimate < %(common_rows)s AND m.search @@ q.q AND {where}
            LIMIT greatest(%(depth)s, 100)
        ) AS x
    ) AS hits
), vec AS MATERIALIZED (
    SELECT id, row_number() OVER (ORDER BY dist, id) AS rank
    FROM (
        SELECT id, embedding <=> %(embedding)s AS dist FROM {table}
        WHERE {where}
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
        SELECT m.id, s.score FROM candidates c JOIN {table} m ON m.id = c.id
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
"""


def query(table: str, where: LiteralString, select: LiteralString) -> sql.Composed:
    """The whole search: `WITH <the shared CTEs> <select>`, where `where` filters the table's
    rows by its unqualified columns (with the caller's parameters; "true" for none) and
    `select` reads `fused` joined to the table. Built once per repository, at import."""
    return sql.SQL("WITH " + _FUSED + select).format(
        name=sql.Literal(table),
        table=sql.Identifier(table),
        where=sql.SQL(where),
    )


def parameters(text: str, embedding: Any, depth: int, min_similarity: float) -> dict[str, Any]:
    """The parameters the shared CTEs take; `ignored` and `common_rows` may be replaced."""
    return {
        "text": text,
        "embedding": embedding,
        "depth": depth,
        "min_similarity": min_similarity,
        "k": RRF_K,
        "ignored": [],
        "common_rows": COMMON_WORD_ROWS,
    }


async def fetch(
    conn: Conn, composed: sql.Composed, params: dict[str, Any], *, ef_search: int, filtered: bool
) -> list[DictRow]:
    """Run a search in its own transaction, so the HNSW settings stay local to it. `filtered`:
    the `where` drops rows, so the vector scan goes on past the ones it drops."""
    async with conn.transaction():
        await conn.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " set_config('hnsw.iterative_scan', %s, true),"
            " set_config('gin_fuzzy_search_limit', %s, true),"
            # The planner's HNSW cost grows with the LIMIT: past ~100 rows it would rather sort
            # the whole table (10x the time at 10k rows). Every list here has an index to use.
            " set_config('enable_seqscan', 'off', true)",
            (
                str(min(max(ef_search, params["depth"]), 1000)),
                "relaxed_order" if filtered else "off",
                # A word in most rows need not list them all: only the first `depth` are used.
                str(GIN_FUZZY_LIMIT),
            ),
        )
        # Never prepared: a generic plan, blind to `depth`, may sort the whole table rather
        # than walk the HNSW index (seen at 10k rows: 5x the CPU).
        cur = await conn.execute(composed, params, prepare=False)
        return await cur.fetchall()
