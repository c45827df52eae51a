"""Saving and searching memories through the worker's code, on the real database and model."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from pgvector import Vector

from services.worker.context import WorkerContext
from services.worker.memory import store, upkeep
from services.worker.memory.store import Candidate
from shared.db import memories as repo
from shared.db.memories import SearchQuery

pytestmark = pytest.mark.usefixtures("no_memories")

DISTRACTORS = [
    "The owner drinks green tea every morning.",
    "The owner's car is a blue Volvo estate.",
    "The owner plays the cello in an amateur orchestra.",
    "The owner supports FC St. Pauli.",
    "The owner prefers answers in British English.",
    "The owner is learning Portuguese for a trip to Lisbon.",
    "The owner's favourite film is Spirited Away.",
    "The owner runs a 10 km loop along the river on Sundays.",
    "The owner works as a nurse at St. Mary's hospital.",
    "The owner hates cilantro.",
]


async def save(app: WorkerContext, *contents: str, category: str = "general") -> list[int]:
    saved = await store.save(
        app, [Candidate(c, category) for c in contents], source="tool", channel="web", turn_id=None
    )
    return [s.id for s in saved]


async def test_a_paraphrase_finds_the_memory_first(worker_app: WorkerContext) -> None:
    [sister, peanuts] = await save(
        worker_app, "The owner's sister is called Anna.", "The owner is allergic to peanuts."
    )
    await save(worker_app, *DISTRACTORS)
    found = await store.search(worker_app, "What's my sister's name?", limit=5)
    assert found[0].id == sister
    found = await store.search(worker_app, "Which nuts must I never eat?", limit=5)
    assert found[0].id == peanuts and found[0].similarity and found[0].similarity > 0.3
    assert found[0].score == max(m.score or 0 for m in found)


async def test_keywords_find_names_and_numbers_vectors_miss(worker_app: WorkerContext) -> None:
    numbered = [
        "The owner wrote 884213 on the back of the old lake house photo.",
        "The owner's health insurance number is 884231.",
        "The owner's gym membership number is 553190.",
        "The owner's library card number is 120877.",
    ]
    named = [
        "The owner borrowed a drill from Zoltan last spring and must give it back.",
        "The owner's colleague Zoran is the team lead.",
        "The owner's neighbour Zora is a retired teacher.",
        "The owner's friend Zeno is a chemist in Basel.",
    ]
    ids = await save(worker_app, *numbered, *named, *DISTRACTORS)
    for query, target in [
        ("884213", ids[0]),
        ("number 884213", ids[0]),
        ("Who is Zoltan?", ids[4]),
    ]:
        embedding = Vector((await worker_app.embedder.embed([query]))[0])
        async with worker_app.pool.connection() as conn:
            # the vector list alone (no words to match): the model ranks another memory first
            vector_only, _ = await repo.search(conn, SearchQuery(text="", embedding=embedding))
            hybrid, _ = await repo.search(conn, SearchQuery(text=query, embedding=embedding))
        assert vector_only[0].id != target, query
        assert hybrid[0].id == target and hybrid[0].text_match, query


async def test_common_words_rank_the_nearest_vectors_without_the_index(
    worker_app: WorkerContext, db
) -> None:
    """A word the planner's statistics count as common is not looked up in the full-text index;
    it still ranks the vector neighbours that hold it."""
    kites = [
        f"The owner flew the red kite number {n} at the beach in {town}."
        for n, town in enumerate(["Sylt", "Rügen", "Usedom", "Föhr", "Amrum", "Borkum"])
    ]
    ids = await save(worker_app, *kites, *DISTRACTORS)
    await db.execute("ANALYZE memories")
    row = await (
        await db.execute(
            "SELECT 'kite' = ANY(most_common_elems::text::text[]) FROM pg_stats"
            " WHERE tablename = 'memories' AND attname = 'search'"
        )
    ).fetchone()
    assert row == (True,), "ANALYZE should count 'kite' among the common words"

    async def hits(near: str, common_word_rows: int) -> list[repo.Memory]:
        embedding = Vector((await worker_app.embedder.embed([near]))[0])
        query = SearchQuery(
            text="kite", embedding=embedding, depth=3, common_word_rows=common_word_rows
        )
        async with worker_app.pool.connection() as conn:
            found, _ = await repo.search(conn, query)
        return found

    # near the tea memory: the three nearest vectors are no kite memories
    rare = await hits("The owner drinks green tea every morning.", common_word_rows=10**9)
    assert {m.id for m in rare if m.text_match} <= set(ids[:6])
    assert len([m for m in rare if m.text_match]) == 3  # found through the index
    common = await hits("The owner drinks green tea every morning.", common_word_rows=1)
    assert not any(m.text_match for m in common)  # the index was not asked
    # near a kite memory: the neighbours holding the word are ranked by it
    common = await hits(kites[2], common_word_rows=1)
    assert common[0].id == ids[2] and common[0].text_match


async def test_duplicates_are_merged(worker_app: WorkerContext, db) -> None:
    [tea] = await save(worker_app, "The owner likes green tea.")
    await db.execute(
        "UPDATE memories SET updated_at = now() - interval '1 day' WHERE id = %s", (tea,)
    )
    [again] = await save(worker_app, "the owner likes   green tea!!", category="preference")
    assert again == tea
    row = await (
        await db.execute(
            "SELECT content, category, updated_at > created_at FROM memories WHERE id = %s", (tea,)
        )
    ).fetchone()
    assert row == ("The owner likes green tea.", "preference", True)
    [sister] = await save(worker_app, "The owner's sister is called Anna.")
    reworded = await store.save(
        worker_app,
        [
            Candidate("The owner's sister is named Anna."),
            Candidate("The owner's younger sister is called Anna."),
        ],
        source="auto",
        channel="telegram:1",
        turn_id="t1",
    )
    assert [s.id for s in reworded] == [sister, sister] and all(s.merged for s in reworded)
    assert reworded[1].content == "The owner's younger sister is called Anna."  # the fuller wording
    # close vectors, other names or numbers: different facts
    [maria] = await save(worker_app, "The owner's sister is called Maria.")
    pins = await save(
        worker_app, "The owner's bike lock code is 1234.", "The owner's bike lock code is 5678."
    )
    assert maria != sister and pins[0] != pins[1]
    count = await (await db.execute("SELECT count(*) FROM memories")).fetchone()
    assert count == (5,)


async def test_one_fact_saved_twice_at_once_is_stored_once(worker_app: WorkerContext, db) -> None:
    fact = "The owner's passport expires in March 2031."
    results = await asyncio.gather(*(save(worker_app, fact) for _ in range(4)))
    assert len({ids[0] for ids in results}) == 1
    assert await (await db.execute("SELECT count(*) FROM memories")).fetchone() == (1,)


async def test_category_filter_and_recency(worker_app: WorkerContext, db) -> None:
    old, new = await save(
        worker_app,
        "The owner's gym is FitX on Main Street.",
        "The owner's gym is the one by the lake.",
    )
    [other] = await save(worker_app, "The owner's gym buddy is Karl.", category="person")
    await db.execute(
        "UPDATE memories SET updated_at = now() - interval '2 years' WHERE id = %s", (old,)
    )
    embedding = Vector((await worker_app.embedder.embed(["Which gym do I go to?"]))[0])
    async with worker_app.pool.connection() as conn:
        query = SearchQuery(text="Which gym do I go to?", embedding=embedding)
        plain, _ = await repo.search(conn, query)
        recent, _ = await repo.search(conn, replace(query, recency_weight=1.0))
        people, total = await repo.search(conn, replace(query, category="person"))
    assert [m.id for m in people] == [other] and total == 1
    assert recent.index(next(m for m in recent if m.id == new)) < recent.index(
        next(m for m in recent if m.id == old)
    )
    assert {m.id for m in plain} == {old, new, other}


def test_invalid_memories_are_refused() -> None:
    with pytest.raises(store.InvalidMemory):
        store.clean_content("  ... !!! ")
    with pytest.raises(store.InvalidMemory):
        store.clean_content("x" * (store.MAX_CONTENT_CHARS + 1))
    with pytest.raises(store.InvalidMemory):
        store.clean_category("Food & Drink")
    assert store.clean_category(None) == "general" and store.clean_category(" Person ") == "person"


async def test_upkeep_embeds_memories_of_another_model_again(worker_app: WorkerContext, db) -> None:
    [kept, stale] = await save(worker_app, "The owner sings bass.", "The owner's boat is the Mira.")
    await db.execute(
        "UPDATE memories SET embedding = NULL, embedding_model = 'openai:old@384' WHERE id = %s",
        (stale,),
    )
    await upkeep.embed_stale(worker_app)
    rows = await (
        await db.execute(
            "SELECT id, embedding_model, embedding IS NOT NULL FROM memories ORDER BY id"
        )
    ).fetchall()
    assert rows == [
        (kept, worker_app.embedder.model, True),
        (stale, worker_app.embedder.model, True),
    ]
    found = await store.search(worker_app, "what is my boat called", limit=1)
    assert found[0].id == stale
