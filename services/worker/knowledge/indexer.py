"""The `index_file` job: chunk a ready file, embed its chunks, store them in place of the old.

Embedding goes through the worker's embedder (the memory one, batching concurrent calls) in
slices of EMBED_SLICE texts, so a long document never holds up a turn's recall for more than
one slice. The chunks are stored in one transaction (shared/db/knowledge.py): until then the
file's earlier chunks, if any, stay searchable. A failure is recorded on the file's index state
with a reason the owner can act on, and never leaves half a set of chunks.
"""

from __future__ import annotations

import logging
from typing import Any

from pgvector import Vector

from services.worker.context import WorkerContext
from services.worker.knowledge import chunker
from services.worker.memory.embedding import EmbeddingError
from shared.db import knowledge as repo
from shared.db.knowledge import NewChunk
from shared.jobs import INDEX_SERVER_FAILURE, IndexFileJob

log = logging.getLogger("aion.worker.knowledge")

EMBED_SLICE = 64
# ~20 MB of text; more would take the local model the best part of an hour on a small server.
MAX_CHUNKS = 25_000


async def index_file(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """arq entry point; returns what the file's index state says (also stored)."""
    app: WorkerContext = ctx["aion"]
    job = IndexFileJob.model_validate(payload)
    try:
        return await _index(app, job)
    except Exception:
        # Recorded, so that whoever waits or polls is not told "indexing" for ever.
        log.exception("indexing failed", extra={"file_id": job.file_id})
        await _failed(app, job.file_id, f"{INDEX_SERVER_FAILURE} (see the worker log)")
        raise


async def _index(app: WorkerContext, job: IndexFileJob) -> dict[str, Any]:
    extra = {"file_id": job.file_id}
    async with app.pool.connection() as conn:
        state = await repo.file_state(conn, job.file_id)
        segments = await repo.segments(conn, job.file_id)
    if state is None:
        return {"status": "gone"}
    if segments is None:
        return await _failed(app, job.file_id, f"the file is not ready (extraction {state.status})")
    chunks = chunker.chunk(segments)
    if len(chunks) > MAX_CHUNKS:
        return await _failed(
            app,
            job.file_id,
            f"the text is too long to index ({len(chunks)} chunks, at most {MAX_CHUNKS})",
        )
    try:
        vectors: list[Any] = []
        for start in range(0, len(chunks), EMBED_SLICE):
            part = chunks[start : start + EMBED_SLICE]
            vectors.extend(await app.embedder.embed([c.embedding_text() for c in part]))
    except EmbeddingError as exc:
        log.warning("indexing failed: %s", exc, extra=extra)
        return await _failed(
            app, job.file_id, f"{INDEX_SERVER_FAILURE}: the embedding model: {exc}"
        )
    new = [
        NewChunk(c.ordinal, c.page, c.heading, c.text, Vector(v))
        for c, v in zip(chunks, vectors, strict=True)
    ]
    pages = state.pages if state.pages is not None else _pages(chunks)
    async with app.pool.connection() as conn:
        stored = await repo.replace_chunks(
            conn, job.file_id, new, model=app.embedder.model, pages=pages
        )
    if not stored:
        return {"status": "gone"}
    log.info("indexed %d chunks", len(new), extra=extra)
    return {"status": "indexed", "chunks": len(new), "pages": pages}


def _pages(chunks: list[chunker.Chunk]) -> int | None:
    pages = {c.page for c in chunks if c.page is not None}
    return len(pages) if pages else None


async def _failed(app: WorkerContext, file_id: str, error: str) -> dict[str, Any]:
    async with app.pool.connection() as conn:
        await repo.mark_failed(conn, file_id, error)
    return {"status": "failed", "error": error}
