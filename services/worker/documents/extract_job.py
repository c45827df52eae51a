"""The `extract_file` job: read a stored file's text in the isolated child and record it on the
file's row (ready, or failed with the reason), then tell the api that waits on it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.worker.context import WorkerContext
from services.worker.documents.collect import Unreadable
from services.worker.documents.isolation import Limits, extract
from shared.db import files as repo
from shared.jobs import (
    FILE_EXTRACTED_TTL_SECONDS,
    FileExtractionJob,
    file_extracted_key,
)

log = logging.getLogger("aion.worker.documents")


async def extract_file(ctx: dict[str, Any], job: dict[str, Any]) -> str:
    """arq entry point; returns the file's status."""
    app: WorkerContext = ctx["aion"]
    file_id = FileExtractionJob.model_validate(job).file_id
    async with app.pool.connection() as conn:
        found = await repo.content_for_extraction(conn, file_id)
    if found is None:
        return "gone"  # deleted before a worker got to it
    _name, mime, content = found
    settings = app.settings
    limits = Limits(
        seconds=settings.aion_file_extract_seconds,
        memory_bytes=settings.aion_file_extract_memory_mb * 1024 * 1024,
        max_chars=settings.aion_file_max_chars,
    )
    if app.extractions is None:
        app.extractions = asyncio.Semaphore(settings.aion_file_extract_concurrency)
    try:
        async with app.extractions:
            result = await extract(mime, content, limits)
    except asyncio.CancelledError:
        # The job's time ran out while it waited for a slot, or the worker is stopping: the
        # file must not stay `pending` for ever.
        await asyncio.shield(_give_up(app, file_id))
        raise
    except Unreadable as exc:
        async with app.pool.connection() as conn:
            await repo.mark_failed(conn, file_id, str(exc))
        log.info("file unreadable", extra={"file_id": file_id, "mime": mime})
        status = "failed"
    else:
        async with app.pool.connection() as conn:
            await repo.mark_extracted(
                conn, file_id, segments=result["segments"], pages=result["pages"]
            )
        if result.get("truncated"):
            log.info("file text cut to the limit", extra={"file_id": file_id})
        status = "ready"
    key = file_extracted_key(file_id)
    await app.redis.lpush(key, status)
    await app.redis.expire(key, FILE_EXTRACTED_TTL_SECONDS)
    return status


async def _give_up(app: WorkerContext, file_id: str) -> None:
    async with app.pool.connection() as conn:
        await repo.mark_failed(
            conn,
            file_id,
            "AION could not finish reading the file (its workers were busy or stopping); "
            "send it again.",
        )
