"""Knowledge-base benchmark: indexing throughput (pages/s) and hybrid search latency at 100k
chunks, printed beside the memory search's figures at the same size, in the same run.

`python -m bench.knowledge [--pages 40] [--chunks 100000] [--memories 100000]` makes a database
of its own (DATABASE_URL's server, or the embedded PostgreSQL of `scripts/localpg.py`), applies
the migrations, then
- indexing: a synthetic document of `--pages` pages (~2,500 characters of English each) goes
  through the worker's real `index_file` job: the chunker, the local embedding model (the memory
  embedder, batching as in the worker) and the one-transaction store; pages/s and chunks/s,
  with each step's share;
- search: `--chunks` chunks (in files of 100) and `--memories` memories with synthetic
  clustered vectors (bench/synthetic_memories.py; no model run) are loaded with binary COPY,
  the indexes built as the migrations define them, the caches warmed (pg_prewarm); then the same
  queries run against both tables with the code the agent and the api run
  (shared/db/knowledge.py and shared/db/memories.py `search`): p50/p95/p99 side by side, and the
  backend's CPU per query (the machine may be shared: wall-clock time includes waiting for a core).
The database is dropped at the end (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from hashlib import sha256
from typing import Any, cast

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb

from bench.memory_search import (
    BackendCPU,
    build_indexes,
    drop_indexes,
    index_definitions,
    percentiles,
    server_settings,
)
from bench.memory_search import load as load_memories
from bench.synthetic_memories import Synthetic
from scripts import localpg
from services.api.knowledge import SEARCH_DEPTH as API_DEPTH
from services.worker.context import WorkerContext
from services.worker.knowledge import chunker, indexer
from services.worker.knowledge.search import SEARCH_DEPTH as AGENT_DEPTH
from services.worker.memory.embedding import BatchingEmbedder
from services.worker.memory.local_embedder import LocalModel
from shared.db import Pool, open_pool
from shared.db.knowledge import KnowledgeQuery
from shared.db.knowledge import search as search_knowledge
from shared.db.memories import SearchQuery
from shared.db.memories import search as search_memories
from tests.stack import run_migrations

CHUNKS_PER_FILE = 100
KNOWLEDGE_INDEXES = ("knowledge_chunks_embedding_hnsw", "knowledge_chunks_search_gin")
# Plain English for the indexing part: the tokenizer sees real words, as in a real document.
_LINES = (
    "the device report customer battery service payment contract section figure table",
    "result method analysis system user data value period rate increase decrease",
    "market price cost quarter annual revenue growth risk policy change process",
    "quality standard requirement test measurement temperature pressure safety",
    "warning install configure connect network server update version release support",
    "team project plan schedule meeting decision review is are was were will may",
    "should must can has have had been be of to in for on with by from at as and or",
    "but not this that these those each every any all some most more less",
)
_ENGLISH = [word for line in _LINES for word in line.split()]


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def english_page(rng: np.random.Generator, chars: int = 2500) -> str:
    sentences, size = [], 0
    while size < chars:
        words = rng.choice(_ENGLISH, int(rng.integers(8, 25)))
        sentence = " ".join(words).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    return " ".join(sentences)


def insert_file(
    conn: psycopg.Connection[Any], file_id: str, segments: list[dict[str, Any]]
) -> None:
    text = "\n\n".join(s["text"] for s in segments)
    content = text.encode()
    conn.execute(
        "INSERT INTO files (id, name, mime, size_bytes, sha256, content, status, text, segments,"
        " chars, pages, extracted_at) VALUES (%s, %s, 'application/pdf', %s, %s, %s, 'ready',"
        " %s, %s, %s, %s, now())",
        (
            file_id,
            f"{file_id}.pdf",
            len(content),
            sha256(content).hexdigest(),
            content,
            text,
            Jsonb(segments),
            len(text),
            len(segments),
        ),
    )


class _App:
    """The two things `index_file` uses of a WorkerContext."""

    def __init__(self, pool: Pool, embedder: TimedEmbedder) -> None:
        self.pool = pool
        self.embedder = embedder


class TimedEmbedder:
    """The real embedder, counting the time the job spends waiting for it."""

    def __init__(self, embedder: BatchingEmbedder) -> None:
        self.model = embedder.model
        self._embedder = embedder
        self.seconds = 0.0

    async def embed(self, texts: list[str]) -> Any:
        began = time.perf_counter()
        try:
            return await self._embedder.embed(texts)
        finally:
            self.seconds += time.perf_counter() - began


async def indexing_table(url: str, pages: int, embedder: BatchingEmbedder) -> None:
    rng = np.random.default_rng(11)
    segments = [{"text": english_page(rng), "page": i + 1, "heading": None} for i in range(pages)]
    file_id = f"bench-{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        insert_file(conn, file_id, segments)
    began = time.perf_counter()
    chunks = chunker.chunk(segments)
    chunked = time.perf_counter() - began
    await embedder.embed(["warm up"])  # the model's first run is not the document's
    timed = TimedEmbedder(embedder)
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        app = cast(WorkerContext, _App(pool, timed))
        began, cpu_began = time.perf_counter(), time.process_time()
        result = await indexer.index_file({"aion": app}, {"file_id": file_id, "requested_at_ms": 0})
        whole, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    finally:
        await pool.close()
    assert result["status"] == "indexed", result
    size = sum(len(c.text) for c in chunks) // len(chunks)
    print(
        f"  {pages} pages, {result['chunks']} chunks (~{size} chars each): {whole:.1f} s end to end"
    )
    print(
        f"  indexing throughput  {pages / whole:8.2f} pages/s  {len(chunks) / whole:8.1f} chunks/s"
    )
    # On a shared machine the wall clock includes waiting for a core; CPU time does not (all of
    # this process's threads: the model's BLAS threads included, PostgreSQL's work not).
    print(f"  per CPU second       {pages / cpu:8.2f} pages    {len(chunks) / cpu:8.1f} chunks")
    rest = max(whole - timed.seconds, 0.0)
    print(
        f"  of which: embedding {timed.seconds:.1f} s, chunking and storing (one transaction)"
        f" {rest:.2f} s (chunking alone {chunked * 1000:.0f} ms)"
    )


def load_chunks(conn: psycopg.Connection[Any], data: Synthetic, total: int) -> float:
    """COPY `total` chunks in files of CHUNKS_PER_FILE; returns rows/s."""
    began = time.perf_counter()
    files = (total + CHUNKS_PER_FILE - 1) // CHUNKS_PER_FILE
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY files (id, name, mime, size_bytes, sha256, content, status, pages)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "text", "text", "int8", "text", "bytea", "text", "int4"])
        for f in range(files):
            copy.write_row(
                (
                    f"file{f:07d}",
                    f"report-{f}.pdf",
                    "application/pdf",
                    0,
                    "0" * 64,
                    b"",
                    "ready",
                    30,
                )
            )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY knowledge_chunks (file_id, ordinal, page, heading, content, embedding,"
            " embedding_model) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "int4", "int4", "text", "text", "vector", "text"])
        for start in range(0, total, 20_000):
            n = min(20_000, total - start)
            vectors = data.vectors(n)
            # A chunk is longer than a memory: several memory-like sentences each.
            texts = [
                " ".join(t) for t in zip(*(data.texts(start, n) for _ in range(5)), strict=True)
            ]
            for i in range(n):
                row = start + i
                copy.write_row(
                    (
                        f"file{row // CHUNKS_PER_FILE:07d}",
                        row % CHUNKS_PER_FILE,
                        row % CHUNKS_PER_FILE // 4 + 1,
                        None,
                        texts[i],
                        Vector(vectors[i]),
                        "synthetic",
                    )
                )
    conn.commit()
    return total / (time.perf_counter() - began)


def knowledge_indexes(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'knowledge_chunks'"
        " AND indexname = ANY(%s)",
        (list(KNOWLEDGE_INDEXES),),
    ).fetchall()
    return {name: definition for name, definition in rows}


def rebuild(conn: psycopg.Connection[Any], definitions: dict[str, str], table: str) -> None:
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET max_parallel_maintenance_workers = 1")
    for name, definition in definitions.items():
        began = time.perf_counter()
        conn.execute(definition)
        conn.commit()
        print(f"  build {name:34} {time.perf_counter() - began:8.1f} s")
    conn.execute(f"VACUUM ANALYZE {table}")


def prewarm(conn: psycopg.Connection[Any], relations: list[str]) -> None:
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    for relation in relations:
        conn.execute("SELECT pg_prewarm(%s::regclass)", (relation,))


async def timed(
    pool: Pool,
    queries: list[tuple[str, np.ndarray]],
    run: Callable[[Any, str, Vector], Awaitable[Any]],
) -> tuple[list[float], float]:
    async with pool.connection() as conn:
        cpu = BackendCPU(conn.info.backend_pid)
    times = []
    cpu0 = cpu()
    for text, vector in queries:
        async with pool.connection() as conn:
            began = time.perf_counter()
            await run(conn, text, Vector(vector))
            times.append(time.perf_counter() - began)
    return times, (cpu() - cpu0) / len(queries) * 1000


async def search_table(url: str, data: Synthetic, count: int, with_memories: bool) -> None:
    pool = await open_pool(url, min_size=1, max_size=1)  # one backend, to read its CPU
    queries = [(data.query_text(), v) for v in data.vectors(count)]
    cases: list[tuple[str, Callable[[Any, str, Vector], Awaitable[Any]]]] = []
    for depth, limit, who in ((AGENT_DEPTH, 5, "agent"), (API_DEPTH, 10, "api")):

        async def knowledge(conn: Any, text: str, v: Vector, d: int = depth, n: int = limit) -> Any:
            return await search_knowledge(
                conn, KnowledgeQuery(text=text, embedding=v, limit=n, depth=d)
            )

        cases.append((f"knowledge {who} (depth {depth})", knowledge))
        if with_memories:

            async def memory(
                conn: Any, text: str, v: Vector, d: int = depth, n: int = limit
            ) -> Any:
                query = SearchQuery(text=text, embedding=v, limit=n, depth=d)
                return await search_memories(conn, query)

            cases.append((f"memory    {who} (depth {depth})", memory))
    try:
        for label, run in cases:
            times, cpu = await timed(pool, queries, run)
            print(f"  {label:30} {percentiles(times)}  cpu {cpu:6.2f} ms")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="pages of the indexed document")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--memories", type=int, default=100_000, help="0: no memory figures")
    parser.add_argument("--queries", type=int, default=200, help="queries per measurement")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL") or localpg.ensure_server()
    name = f"aion_bench_knowledge_{uuid.uuid4().hex[:8]}"
    url = localpg.ensure_database(admin, name)
    log(f"database {name}")
    try:
        run_migrations(url)
        model = LocalModel.load()
        embedder = BatchingEmbedder(model.name, model.encode)
        with psycopg.connect(url, autocommit=True) as conn:
            print(server_settings(conn))
        print(f"\n== indexing (load average {os.getloadavg()[0]:.1f})")
        asyncio.run(indexing_table(url, args.pages, embedder))
        data = Synthetic()
        with psycopg.connect(url, autocommit=True) as conn:
            register_vector(conn)
            conn.execute("DELETE FROM files")  # the indexing part's document
            print(f"\n== {args.chunks:,} chunks, {args.memories:,} memories")
            definitions = knowledge_indexes(conn)
            for index in definitions:
                conn.execute(f"DROP INDEX {index}")
            log(f"loading {args.chunks:,} chunks")
            print(
                f"  insert rate (COPY binary) {load_chunks(conn, data, args.chunks):,.0f} chunks/s"
            )
            rebuild(conn, definitions, "knowledge_chunks")
            relations = ["knowledge_chunks", *definitions]
            if args.memories:
                memory_indexes = index_definitions(conn)
                drop_indexes(conn, memory_indexes)
                log(f"loading {args.memories:,} memories")
                rate = load_memories(conn, data, 0, args.memories)
                print(f"  insert rate (COPY binary) {rate:,.0f} memories/s")
                for index, seconds in build_indexes(conn, memory_indexes).items():
                    print(f"  build {index:34} {seconds:8.1f} s")
                relations += ["memories", *memory_indexes]
            prewarm(conn, relations)
        load = os.getloadavg()[0]
        print(f"\n== hybrid search, {args.queries} queries each (load average {load:.1f})")
        asyncio.run(search_table(url, data, args.queries, bool(args.memories)))
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            log(f"dropped {name}")


if __name__ == "__main__":
    main()
