"""Automatic extraction, called as the worker calls it: what the extractor sees, what is kept,
and how unread messages become exchanges and batches."""

from __future__ import annotations

import uuid

import orjson
import pytest

from services.worker.context import WorkerContext
from services.worker.memory import batching
from services.worker.memory import extract as extraction
from services.worker.memory.batching import batches, exchanges
from services.worker.memory.extract import Exchange, extract, grounded, parse_facts
from shared.app_settings import AppSettings
from shared.db import conversations
from shared.db.extraction import Unread
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.helpers import eventually

pytestmark = pytest.mark.usefixtures("no_memories")


def test_marker_is_shared_with_the_fake() -> None:
    assert extraction.MARKER == MEMORY_EXTRACTION_MARKER


def test_parse_facts() -> None:
    text = (
        'Sure:\n```json\n{"facts": [{"content": "The owner is vegan.", "category": "health"}]}\n```'
    )
    assert [(f.content, f.category) for f in parse_facts(text)] == [
        ("The owner is vegan.", "health")
    ]
    assert parse_facts("nothing to remember") == []
    assert parse_facts('{"facts": [{"content": ""}]}') == []
    assert parse_facts('{"facts": "no"}') == []
    many = orjson.dumps({"facts": [{"content": f"fact {i}"} for i in range(20)]}).decode()
    assert len(parse_facts(many)) == extraction.MAX_FACTS


def test_grounding_needs_the_owners_names_and_numbers() -> None:
    owner = "my sister anna moved to Leipzig in 2021, and I hate olives"
    assert grounded("The owner's sister Anna moved to Leipzig in 2021.", owner)
    assert grounded("The owner hates olives.", owner)
    assert grounded("Anna is the owner's sister.", owner)  # a name that starts a sentence
    assert not grounded("The owner's sister Anna moved to Dresden in 2021.", owner)
    assert not grounded("The owner's sister was born in 1990.", owner)
    assert not grounded("The owner banks with EvilBank.", owner)
    assert not grounded("Initech is the owner's employer.", owner)  # a name that starts it
    assert grounded("Every spring the owner's sister Anna visits.", owner)


def exchange(owner: str, reply: str = "Noted.", turn_id: str | None = None) -> Exchange:
    return Exchange(owner, turn_id or "t-" + owner[:6], 1, [reply])


async def test_extraction_saves_what_the_owner_said(
    worker_app: WorkerContext, fake_llm: FakeLLM, db
) -> None:
    fake_llm.clear()
    owner = "My dog Rex turned 7 today! {{fact/person: The owner's dog Rex is 7 years old.}}"
    assert await extract(worker_app, "fake-model", "web", [exchange(owner)]) == 1
    [request] = [r for r in fake_llm.requests if MEMORY_EXTRACTION_MARKER in str(r)]
    assert request["model"] == "fake-model"
    assert "<exchange>\n<owner>\n" + owner in request["messages"][1]["content"]
    rows = await (
        await db.execute("SELECT content, category, source, turn_id FROM memories")
    ).fetchall()
    assert rows == [("The owner's dog Rex is 7 years old.", "person", "auto", "t-My dog")]


async def test_one_call_reads_several_exchanges_and_credits_each_fact(
    worker_app: WorkerContext, fake_llm: FakeLLM, db
) -> None:
    fake_llm.clear()
    said = [
        exchange("My sister is Ana. {{fact/person: The owner's sister is Ana.}}", turn_id="t1"),
        exchange("What time is it?", turn_id="t2"),
        exchange(
            "Ana lives in Porto. {{fact/person: The owner's sister Ana lives in Porto.}}",
            turn_id="t3",
        ),
    ]
    assert await extract(worker_app, "fake-model", "web", said) == 2
    assert len([r for r in fake_llm.requests if MEMORY_EXTRACTION_MARKER in str(r)]) == 1
    rows = await (await db.execute("SELECT content, turn_id FROM memories ORDER BY id")).fetchall()
    # each to the first exchange whose owner words alone ground it
    assert rows == [
        ("The owner's sister is Ana.", "t1"),
        ("The owner's sister Ana lives in Porto.", "t3"),
    ]


async def test_facts_only_the_reply_carried_are_dropped(worker_app: WorkerContext, db) -> None:
    """A reply quoting a web page (tool output) proposes a fact; its names are not the owner's."""
    reply = "The page says: {{fact: The owner's new employer is Initech in Austin since 2019.}}"
    said = [exchange("What does that page say about me?", reply)]
    assert await extract(worker_app, "fake-model", "web", said) == 0
    assert await (await db.execute("SELECT count(*) FROM memories")).fetchone() == (0,)


def test_unread_messages_become_exchanges_and_batches() -> None:
    rows = [
        Unread(1, "t0", "assistant", "a reply whose question was read before"),
        Unread(2, "t1", "user", "one"),
        Unread(4, "t1", "assistant", "first part"),
        Unread(5, "t1b", "assistant", "after an approval"),
        Unread(6, "t2", "user", "two"),
        Unread(8, "t3", "user", "three"),
        Unread(9, "t3", "assistant", "answer"),
    ]
    found = exchanges(rows)
    assert [(e.owner, e.turn_id, e.last_id, e.replies) for e in found] == [
        ("one", "t1", 5, ["first part", "after an approval"]),
        ("two", "t2", 6, []),
        ("three", "t3", 9, ["answer"]),
    ]
    assert [[e.owner for e in b] for b in batches(found, 2)] == [["one", "two"], ["three"]]
    big = [Exchange("x" * 9000, None, i, ["y" * 9000]) for i in range(6)]
    # each message is read up to 6000 characters: 12000 per exchange, three per 40000
    assert [len(b) for b in batches(big, 10)] == [3, 3]


async def test_a_conversation_is_read_in_batches_as_the_worker_reads_it(
    worker_app: WorkerContext, fake_llm: FakeLLM, db
) -> None:
    """The worker's steps in process: turns stored, scheduled, then read in one call."""
    fake_llm.clear()
    channel = "batch-" + uuid.uuid4().hex[:8]
    owner_settings = AppSettings(memory_extract_idle_seconds=3600, memory_extract_every_turns=3)
    for i in range(3):
        async with worker_app.pool.connection() as conn:
            started = await conversations.start_exchange(
                conn,
                channel,
                f"{channel}-{i}",
                f"My cat Tom{i} is grey. {{{{fact: The owner's cat Tom{i} is grey.}}}}",
                30,
            )
            assert started is not None
            conversation_id = started[0]
            await conversations.add_turn_messages(
                conn, conversation_id, f"{channel}-{i}", [{"role": "assistant", "content": "ok"}]
            )
        await batching.after_turn(worker_app, conversation_id, owner_settings)
    await eventually(lambda: _count(db, channel), "three memories", timeout=20)
    assert len([r for r in fake_llm.requests if MEMORY_EXTRACTION_MARKER in str(r)]) == 1


async def _count(db, channel: str) -> bool:
    row = await (
        await db.execute("SELECT count(*) FROM memories WHERE channel = %s", (channel,))
    ).fetchone()
    return bool(row and row[0] == 3)
