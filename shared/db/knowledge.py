"""The knowledge base: indexed files' chunks (with page and heading, for citing), where each file
stands in the index, and hybrid search over the chunks (shared/db/hybrid.py, as memories).

A file's chunks are only ever replaced whole, in one transaction (`replace_chunks`): a search
sees the old chunks or the new ones, never a mix nor none in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pgvector import Vector

from shared.db import Conn, hybrid

IndexStatus = Literal["indexing", "indexed", "failed"]
# Re-indexing one file runs one at a time (two requests in a row still end with one set).
_INDEX_LOCK = 74206


@dataclass(frozen=True, slots=True)
class FileState:
    """What indexing needs to know of a file (the files table belongs to the Files API)."""

    id: str
    name: str
    status: str  # 'pending' | 'ready' | 'failed' (extraction)
    error: str | None
    pages: int | None


@dataclass(frozen=True, slots=True)
class IndexState:
    file_id: str
    status: IndexStatus
    error: str | None
    chunks: int
    pages: int | None
    embedding_model: str | None
    requested_at: datetime
    indexed_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewChunk:
    ordinal: int
    page: int | None
    heading: str | None
    content: str
    embedding: Vector


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    file_id: str
    file_name: str
    ordinal: int
    page: int | None
    heading: str | None
    content: str
    score: float
    similarity: float
    text_match: bool

    def cite(self) -> str:
        """Where the passage is from, to cite: the file, then its page and/or heading."""
        where = [self.file_name]
        if self.page is not None:
            where.append(f"p. {self.page}")
        if self.heading:
            where.append(f"§ {self.heading}")
        return ", ".join(where)


@dataclass(frozen=True, slots=True)
class KnowledgeQuery:
    text: str
    embedding: Vector
    limit: int = 5
    file_ids: Sequence[str] | None = None  # None: every indexed file
    depth: int = 50  # candidates taken from each list before fusing
    ef_search: int = 100
    min_similarity: float = 0.0


async def file_state(conn: Conn, file_id: str) -> FileState | None:
    cur = await conn.execute(
        "SELECT id, name, status, error, pages FROM files WHERE id = %s", (file_id,)
    )
    row = await cur.fetchone()
    return FileState(**row) if row else None


async def segments(conn: Conn, file_id: str) -> list[dict[str, Any]] | None:
    """The extracted segments of a ready file, in reading order; None when it is not ready."""
    cur = await conn.execute(
        "SELECT segments FROM files WHERE id = %s AND status = 'ready'", (file_id,)
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return list(row["segments"] or [])


async def start_indexing(conn: Conn, file_id: str) -> None:
    """The owner asked for the file to be indexed (again): it is 'indexing' until a worker is
    done. Chunks already stored stay searchable until the new ones replace them."""
    await conn.execute(
        """
        INSERT INTO knowledge_files (file_id, status) VALUES (%s, 'indexing')
        ON CONFLICT (file_id) DO UPDATE SET status = 'indexing', error = NULL,
            requested_at = now()
        """,
        (file_id,),
    )


async def index_state(conn: Conn, file_id: str) -> IndexState | None:
    cur = await conn.execute(
        "SELECT file_id, status, error, chunks, pages, embedding_model, requested_at, indexed_at"
        " FROM knowledge_files WHERE file_id = %s",
        (file_id,),
    )
    row = await cur.fetchone()
    return IndexState(**row) if row else None


async def replace_chunks(
    conn: Conn, file_id: str, chunks: Sequence[NewChunk], *, model: str, pages: int | None
) -> bool:
    """Store the file's chunks in place of the old ones, all at once; False when the file was
    deleted meanwhile (nothing is stored then)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_INDEX_LOCK, file_id))
        # FOR SHARE: a delete of the file waits until the chunks are in (and then takes them).
        cur = await conn.execute("SELECT 1 FROM files WHERE id = %s FOR SHARE", (file_id,))
        if await cur.fetchone() is None:
            return False
        await conn.execute("DELETE FROM knowledge_chunks WHERE file_id = %s", (file_id,))
        async with conn.cursor() as cursor:
            await cursor.executemany(
                """
                INSERT INTO knowledge_chunks
                    (file_id, ordinal, page, heading, content, embedding, embedding_model)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (file_id, c.ordinal, c.page, c.heading, c.content, c.embedding, model)
                    for c in chunks
                ],
            )
        await conn.execute(
            """
            INSERT INTO knowledge_files
                (file_id, status, chunks, pages, embedding_model, indexed_at)
            VALUES (%(id)s, 'indexed', %(chunks)s, %(pages)s, %(model)s, now())
            ON CONFLICT (file_id) DO UPDATE SET status = 'indexed', error = NULL,
                chunks = %(chunks)s, pages = %(pages)s, embedding_model = %(model)s,
                indexed_at = now()
            """,
            {"id": file_id, "chunks": len(chunks), "pages": pages, "model": model},
        )
    return True


async def mark_failed(conn: Conn, file_id: str, error: str) -> None:
    """Indexing failed; chunks stored by an earlier indexing stay (and searchable)."""
    await conn.execute(
        "UPDATE knowledge_files SET status = 'failed', error = %s WHERE file_id = %s",
        (error, file_id),
    )


async def any_indexed(conn: Conn) -> bool:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM knowledge_chunks) AS any")
    row = await cur.fetchone()
    return bool(row and row["any"])


async def chunk_count(conn: Conn, file_id: str) -> int:
    cur = await conn.execute(
        "SELECT count(*) AS n FROM knowledge_chunks WHERE file_id = %s", (file_id,)
    )
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


_SEARCH = hybrid.query(
    "knowledge_chunks",
    "(%(file_ids)s::text[] IS NULL OR file_id = ANY(%(file_ids)s::text[]))",
    """
SELECT c.id, c.file_id, fl.name AS file_name, c.ordinal, c.page, c.heading, c.content,
    (1 - (c.embedding <=> %(embedding)s))::float8 AS similarity, f.text_match,
    f.rrf::float8 AS score
FROM fused f JOIN knowledge_chunks c ON c.id = f.id JOIN files fl ON fl.id = c.file_id
ORDER BY score DESC, c.id DESC
LIMIT %(limit)s
""",
)


async def search(conn: Conn, query: KnowledgeQuery) -> list[Hit]:
    """The best chunks for the query, best first (hybrid search, as memories)."""
    depth = max(1, min(query.depth, 1000))
    params = hybrid.parameters(query.text, query.embedding, depth, query.min_similarity)
    file_ids = list(query.file_ids) if query.file_ids is not None else None
    params.update(file_ids=file_ids, limit=query.limit)
    rows = await hybrid.fetch(
        conn, _SEARCH, params, ef_search=query.ef_search, filtered=file_ids is not None
    )
    return [Hit(**row) for row in rows]
