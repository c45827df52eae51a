"""Knowledge-base fixtures: the memory tests' real embedder and in-process WorkerContext, and
ready files put straight into the `files` table (the Files API extracts them in production)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from hashlib import sha256
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.memory.conftest import embedder, local_model, worker_app

__all__ = ["embedder", "local_model", "worker_app"]

Db = psycopg.AsyncConnection[tuple[object, ...]]
AddFile = Callable[..., Awaitable[str]]

# A product manual: four pages on unrelated matters, so a search that finds the wrong one fails.
MANUAL = [
    {
        "text": "The manufacturer guarantees the device for twenty-four months from the date "
        "of purchase. Damage caused by dropping it or by liquids is excluded.",
        "page": 1,
        "heading": "Warranty",
    },
    {
        "text": "Wipe the housing with a slightly damp cloth. Never immerse the unit in water "
        "and never use abrasive detergents or solvents.",
        "page": 2,
        "heading": "Cleaning",
    },
    {
        "text": "A full charge of the battery takes about three hours. The indicator light "
        "turns green once charging is complete.",
        "page": 3,
        "heading": "Battery",
    },
    {
        "text": "If the display stays blank, hold the power button for ten seconds to restart "
        "the device; settings are kept.",
        "page": 4,
        "heading": "Troubleshooting",
    },
]


async def insert_file(
    db: Db,
    name: str,
    segments: list[dict[str, Any]],
    *,
    status: str = "ready",
    error: str | None = None,
) -> str:
    """A file row as the Files API leaves it after extraction."""
    file_id = uuid.uuid4().hex[:16]
    text = "\n\n".join(s["text"] for s in segments)
    content = text.encode()
    pages = max((s["page"] for s in segments if s.get("page")), default=None)
    await db.execute(
        """
        INSERT INTO files (id, name, mime, size_bytes, sha256, content, status, error, text,
                           segments, chars, pages, extracted_at)
        VALUES (%s, %s, 'application/pdf', %s, %s, %s, %s, %s, %s, %s, %s, %s,
                CASE WHEN %s = 'pending' THEN NULL ELSE now() END)
        """,
        (
            file_id,
            name,
            len(content),
            sha256(content).hexdigest(),
            content,
            status,
            error,
            text if status == "ready" else None,
            Jsonb(segments) if status == "ready" else None,
            len(text) if status == "ready" else None,
            pages if status == "ready" else None,
            status,
        ),
    )
    return file_id


@pytest.fixture
async def add_file(db: Db) -> AsyncIterator[AddFile]:
    """Adds files for one test and deletes them (and so their chunks) after it."""
    made: list[str] = []

    async def add(name: str, segments: list[dict[str, Any]], **kwargs: Any) -> str:
        file_id = await insert_file(db, name, segments, **kwargs)
        made.append(file_id)
        return file_id

    yield add
    await db.execute("DELETE FROM files WHERE id = ANY(%s)", (made,))
