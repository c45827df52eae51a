"""The knowledge base from the api's side: have a worker index a file, report where a file
stands, search (the query embedded by a worker, as memory search does).

Indexing runs in a worker (the embedding model never runs in the api): the request waits for
it up to AION_INDEX_WAIT_SECONDS, then answers with the counts, or with 202 while it goes on.
"""

from __future__ import annotations

import logging
import secrets
import time

from services.api.context import AppContext
from services.api.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from services.api.query_embedding import embed_query
from services.api.schemas.knowledge import IndexState, KnowledgeResults, Passage
from shared import metrics
from shared.db import Conn
from shared.db import knowledge as repo
from shared.db.knowledge import KnowledgeQuery
from shared.jobs import (
    INDEX_FILE,
    INDEX_SERVER_FAILURE,
    JOBS_WAKE_CHANNEL,
    IndexFileJob,
    index_job_id,
)

log = logging.getLogger("aion.api.knowledge")

SEARCH_DEPTH = 100
MIN_SIMILARITY = 0.2
_POLL_SECONDS = 0.1


async def _ready_file(conn: Conn, file_id: str) -> None:
    state = await repo.file_state(conn, file_id)
    if state is None:
        raise NotFound(f"No file with id {file_id}.")
    if state.status == "pending":
        raise Conflict("The file's text is still being extracted; index it once it is ready.")
    if state.status == "failed":
        raise Conflict(f"The file's text could not be extracted ({state.error}): nothing to index.")


async def state(conn: Conn, file_id: str) -> IndexState:
    if await repo.file_state(conn, file_id) is None:
        raise NotFound(f"No file with id {file_id}.")
    found = await repo.index_state(conn, file_id)
    chunks = await repo.chunk_count(conn, file_id)
    if found is None:
        return IndexState(
            file_id=file_id,
            status="not_indexed",
            chunks=chunks,
            pages=None,
            embedding_model=None,
            requested_at=None,
            indexed_at=None,
            error=None,
        )
    return IndexState(
        file_id=file_id,
        status=found.status,
        chunks=chunks,
        pages=found.pages,
        embedding_model=found.embedding_model,
        requested_at=found.requested_at,
        indexed_at=found.indexed_at,
        error=found.error,
    )


async def index(ctx: AppContext, file_id: str) -> IndexState:
    """Queue the indexing and wait for it (bounded); the state it ended in, or 'indexing'."""
    async with ctx.pool.connection() as conn:
        await _ready_file(conn, file_id)
        await repo.start_indexing(conn, file_id)
    job = IndexFileJob(file_id=file_id, requested_at_ms=int(time.time() * 1000))
    job_id = index_job_id(file_id, job.requested_at_ms, secrets.token_hex(4))
    # Its Job knows the queue to look in (arq's default is another one) and how to read results.
    queued = await ctx.redis.enqueue_job(INDEX_FILE, job.model_dump(), _job_id=job_id)
    await ctx.redis.publish(JOBS_WAKE_CHANNEL, b"1")
    wait = ctx.settings.aion_index_wait_seconds
    if queued is not None and wait > 0:
        try:
            await queued.result(timeout=wait, poll_delay=_POLL_SECONDS)
        except TimeoutError:
            pass  # still going: 202, and the client follows GET /api/files/{id}/index
        except Exception:
            # The job ended in an error of its own (it records a failed state first).
            log.exception("indexing job failed", extra={"file_id": file_id})
    async with ctx.pool.connection() as conn:
        found = await state(conn, file_id)
    if found.status == "failed" and found.error:
        if found.error.startswith(INDEX_SERVER_FAILURE):
            raise ServiceUnavailable(f"The file could not be indexed: {found.error}.")
        raise Unprocessable(f"The file could not be indexed: {found.error}.")
    return found


async def search(
    ctx: AppContext, conn: Conn, text: str, *, limit: int, file_ids: list[str] | None
) -> KnowledgeResults:
    text = text.strip()
    if not text:
        raise Unprocessable("q: say what to look for (it is blank).", param="q")
    query = KnowledgeQuery(
        text=text,
        embedding=await embed_query(ctx, text, search="Knowledge search"),
        limit=limit,
        file_ids=file_ids,
        depth=max(SEARCH_DEPTH, limit),
        min_similarity=MIN_SIMILARITY,
    )
    started = time.perf_counter()
    found = await repo.search(conn, query)
    metrics.knowledge_search(time.perf_counter() - started)
    passages = [
        Passage(
            file_id=h.file_id,
            file=h.file_name,
            page=h.page,
            heading=h.heading,
            cite=h.cite(),
            text=h.content,
            score=round(h.score, 4),
        )
        for h in found
    ]
    return KnowledgeResults(results=passages, returned=len(passages))
