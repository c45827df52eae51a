"""The worker's memory operations: embed, then save (merging duplicates), search or forget.

Used by the memory plugin's tools, by recall before a turn and by extraction after it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pgvector import Vector

from services.worker.context import WorkerContext
from shared import metrics
from shared.db import Conn
from shared.db import memories as repo
from shared.db.memories import Memory, NewMemory, SearchQuery

MAX_CONTENT_CHARS = 2000
MAX_QUERY_CHARS = 2000
SEARCH_DEPTH = 50  # candidates per list for the agent's searches (tools, recall)
DEFAULT_CATEGORY = "general"
CATEGORY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_WORD = re.compile(r"\w+")
# Words that are capitalised for grammar, not because they name something.
_GENERIC_WORDS = (
    "i a an the this that these those my our your his her their its he she they it we you "
    "owner owners user aion assistant yes no on in at every each when since after before "
    "from for to of and but or so if as"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())
# Cosine similarity from which a new memory may restate an old one (if it names the same names
# and numbers, see same_details); rewordings of one fact score about 0.9 and up with the local
# model (tests/memory/test_store.py).
DUPLICATE_SIMILARITY = 0.9


@dataclass(frozen=True, slots=True)
class Saved:
    id: int
    merged: bool  # an existing memory was confirmed or reworded instead of a new one stored
    content: str  # what the memory says now


class InvalidMemory(ValueError):
    """Content or category a memory cannot have; the message says why."""


@dataclass(frozen=True, slots=True)
class Candidate:
    content: str
    category: str = DEFAULT_CATEGORY


def distinctive_words(text: str, *, sentence_starts: bool = False) -> set[str]:
    """Numbers and capitalised words (names, places, dates), lower-cased. A capital that starts
    a sentence may be only grammar: such words count with `sentence_starts` (and never the
    common sentence openers in _GENERIC)."""
    words: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group()
        before = text[: match.start()].rstrip(" \t\"'(")
        starts_sentence = not before or before[-1] in ".!?:;\n"
        capital = word[0].isupper() and (sentence_starts or not starts_sentence)
        if (capital or any(ch.isdigit() for ch in word)) and word.lower() not in _GENERIC:
            words.add(word.lower())
    return words


def same_details(a: str, b: str) -> bool:
    """Close wordings with the same names and numbers say the same; "sister Anna" and "sister
    Maria", or "PIN 1234" and "PIN 5678", do not, however close their vectors are."""
    return distinctive_words(a, sentence_starts=True) == distinctive_words(b, sentence_starts=True)


def clean_content(content: str) -> str:
    text = " ".join(content.split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidMemory("a memory needs some words")
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidMemory(f"a memory is at most {MAX_CONTENT_CHARS} characters")
    return text


def clean_category(category: str | None) -> str:
    value = (category or DEFAULT_CATEGORY).strip().lower()
    if not CATEGORY.match(value):
        raise InvalidMemory("category: lowercase letters, digits, '_' or '-', at most 32")
    return value


async def save(
    app: WorkerContext,
    candidates: Sequence[Candidate],
    *,
    source: str,
    channel: str | None,
    turn_id: str | None,
) -> list[Saved]:
    """Embed all candidates in one batch and save each; a duplicate merges into its original."""
    items = [(clean_content(c.content), clean_category(c.category)) for c in candidates]
    if not items:
        return []
    vectors = await app.embedder.embed([content for content, _ in items])
    saved: list[Saved] = []
    async with app.pool.connection() as conn, conn.transaction():
        await repo.lock_saves(conn)
        for (content, category), vector in zip(items, vectors, strict=True):
            new = NewMemory(
                content=content,
                category=category,
                source=source,
                channel=channel,
                turn_id=turn_id,
                embedding=Vector(vector),
                embedding_model=app.embedder.model,
            )
            saved.append(await _save_one(conn, new))
    return saved


async def _save_one(conn: Conn, new: NewMemory) -> Saved:
    found = await repo.duplicates(
        conn, new.content, new.embedding, min_similarity=DUPLICATE_SIMILARITY
    )
    same = next(
        (d for d in found if d.same_text or same_details(d.memory.content, new.content)), None
    )
    if same is None:
        return Saved(await repo.insert(conn, new), False, new.content)
    old = same.memory
    category = new.category if old.category == DEFAULT_CATEGORY else old.category
    if not same.same_text and len(new.content) > len(old.content):
        # Reworded with more to say: the fuller wording wins, with its provenance and vector.
        await repo.reword(conn, old.id, replace(new, category=category))
        return Saved(old.id, True, new.content)
    await repo.confirm(conn, old.id, category)
    return Saved(old.id, True, old.content)


async def search(
    app: WorkerContext,
    text: str,
    *,
    limit: int,
    category: str | None = None,
    min_similarity: float = 0.0,
    recency_weight: float = 0.0,
) -> list[Memory]:
    """Hybrid search for `text`, best first."""
    text = text[:MAX_QUERY_CHARS]
    vectors = await app.embedder.embed([text])
    query = SearchQuery(
        text=text,
        embedding=Vector(vectors[0]),
        limit=limit,
        category=clean_category(category) if category else None,
        depth=max(SEARCH_DEPTH, limit),
        min_similarity=min_similarity,
        recency_weight=recency_weight,
    )
    started = time.perf_counter()
    async with app.pool.connection() as conn:
        found, _ = await repo.search(conn, query)
    metrics.memory_search(time.perf_counter() - started)
    return found


async def forget(app: WorkerContext, memory_id: int) -> bool:
    async with app.pool.connection() as conn:
        return await repo.delete(conn, memory_id)


async def any_exist(app: WorkerContext) -> bool:
    async with app.pool.connection() as conn:
        return await repo.any_exist(conn)
