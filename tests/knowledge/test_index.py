"""Indexing and searching on the real database with the real embedder: a question in other
words finds its page, deleting a file takes its chunks, a re-index swaps chunks at once."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import psycopg

from services.worker.context import WorkerContext
from services.worker.knowledge import indexer, search
from services.worker.memory.embedding import EmbeddingError
from tests.knowledge.conftest import MANUAL, AddFile

Db = psycopg.AsyncConnection[tuple[object, ...]]

# Questions that share no word (after stemming, stop words aside) with the page they are about.
QUESTIONS = [
    ("How long until the accumulator is topped up?", 3),
    ("The screen shows nothing at all, what should I try?", 4),
    ("Can I put it in the dishwasher or rinse it under the tap?", 2),
    ("Is it covered if it breaks within the first year?", 1),
]


async def index(app: WorkerContext, file_id: str) -> dict[str, Any]:
    return await indexer.index_file({"aion": app}, {"file_id": file_id, "requested_at_ms": 0})


async def shared_words(db: Db, a: str, b: str) -> list[str]:
    cur = await db.execute(
        "SELECT array(SELECT unnest(tsvector_to_array(to_tsvector('english', %s)))"
        " INTERSECT SELECT unnest(tsvector_to_array(to_tsvector('english', %s))))",
        (a, b),
    )
    row = await cur.fetchone()
    assert row is not None
    return [str(word) for word in row[0]]  # type: ignore[attr-defined]


async def counts(db: Db, file_id: str) -> tuple[Any, ...]:
    cur = await db.execute(
        "SELECT (SELECT count(*) FROM knowledge_chunks WHERE file_id = %s),"
        " (SELECT count(*) FROM knowledge_files WHERE file_id = %s)",
        (file_id, file_id),
    )
    row = await cur.fetchone()
    assert row is not None
    return tuple(row)


async def test_a_question_in_other_words_finds_its_page(
    worker_app: WorkerContext, add_file: AddFile, db: Db
) -> None:
    file_id = await add_file("manual.pdf", MANUAL)
    assert await index(worker_app, file_id) == {"status": "indexed", "chunks": 4, "pages": 4}
    for question, page in QUESTIONS:
        expected = MANUAL[page - 1]["text"]
        assert await shared_words(db, question, str(expected)) == [], question
        found = await search.search(worker_app, question, limit=3, file_ids=[file_id])
        best = found[0]
        assert (best.file_name, best.page, best.heading) == (
            "manual.pdf",
            page,
            MANUAL[page - 1]["heading"],
        ), question
        assert best.content == expected
        assert best.cite() == f"manual.pdf, p. {page}, § {MANUAL[page - 1]['heading']}"


async def test_exact_words_find_a_chunk_and_files_can_be_chosen(
    worker_app: WorkerContext, add_file: AddFile
) -> None:
    manual = await add_file("manual.pdf", MANUAL)
    other = await add_file(
        "invoice.docx", [{"text": "Invoice KX-4711 for the repair, due in March.", "page": None}]
    )
    await index(worker_app, manual)
    await index(worker_app, other)
    found = await search.search(worker_app, "KX-4711", limit=2)
    assert found[0].file_id == other and found[0].text_match and found[0].page is None
    only_manual = await search.search(worker_app, "KX-4711", limit=5, file_ids=[manual])
    assert only_manual and {h.file_id for h in only_manual} == {manual}


async def test_deleting_the_file_deletes_its_chunks_and_state(
    worker_app: WorkerContext, add_file: AddFile, db: Db
) -> None:
    file_id = await add_file("manual.pdf", MANUAL)
    await index(worker_app, file_id)
    assert await counts(db, file_id) == (4, 1)
    await db.execute("DELETE FROM files WHERE id = %s", (file_id,))
    assert await counts(db, file_id) == (0, 0)
    assert await index(worker_app, file_id) == {"status": "gone"}


async def test_a_reindex_replaces_the_chunks_at_once(
    worker_app: WorkerContext, add_file: AddFile, db: Db, database_url: str
) -> None:
    file_id = await add_file("manual.pdf", MANUAL)
    assert (await index(worker_app, file_id))["chunks"] == 4
    assert (await counts(db, file_id)) == (4, 1)
    longer = [
        {"text": f"Section {i}. " + "Detailed instructions follow here. " * 20, "page": i + 1}
        for i in range(12)
    ]
    await db.execute(
        "UPDATE files SET segments = %s WHERE id = %s",
        (psycopg.types.json.Jsonb(longer), file_id),
    )
    seen: set[int] = set()
    done = asyncio.Event()

    async def watch() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            while not done.is_set():
                cur = await conn.execute(
                    "SELECT count(*), count(DISTINCT embedding_model),"
                    " max(ordinal) - min(ordinal) + 1 = count(*)"
                    " FROM knowledge_chunks WHERE file_id = %s",
                    (file_id,),
                )
                row = await cur.fetchone()
                assert row is not None and row[2] is True  # never a mix, never gaps
                seen.add(int(row[0]))  # type: ignore[call-overload]
                await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    result = await index(worker_app, file_id)
    done.set()
    await watcher
    new = result["chunks"]
    assert result["status"] == "indexed" and new == 12
    assert seen <= {4, new} and 4 in seen  # the old set, then the new one: nothing between
    assert (await counts(db, file_id))[0] == new


async def test_a_failed_reindex_keeps_the_old_chunks(
    worker_app: WorkerContext, add_file: AddFile, db: Db
) -> None:
    file_id = await add_file("manual.pdf", MANUAL)
    await index(worker_app, file_id)

    class Broken:
        model = worker_app.embedder.model

        async def embed(self, texts: list[str]) -> np.ndarray:
            raise EmbeddingError("the model file is gone")

    real = worker_app.embedder
    worker_app.embedder = Broken()  # type: ignore[assignment]
    try:
        result = await index(worker_app, file_id)
    finally:
        worker_app.embedder = real
    assert result["status"] == "failed" and "the model file is gone" in result["error"]
    assert await counts(db, file_id) == (4, 1)
    cur = await db.execute(
        "SELECT status, error FROM knowledge_files WHERE file_id = %s", (file_id,)
    )
    assert await cur.fetchone() == ("failed", result["error"])


async def test_a_file_not_extracted_is_not_indexed(
    worker_app: WorkerContext, add_file: AddFile, db: Db
) -> None:
    file_id = await add_file("scan.pdf", [], status="failed", error="the PDF is encrypted")
    await db.execute(
        "INSERT INTO knowledge_files (file_id, status) VALUES (%s, 'indexing')", (file_id,)
    )
    result = await index(worker_app, file_id)
    assert result == {"status": "failed", "error": "the file is not ready (extraction failed)"}
    assert await counts(db, file_id) == (0, 1)
