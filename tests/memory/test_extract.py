"""Automatic extraction, called as the worker calls it: what the extractor sees, what is kept."""

from __future__ import annotations

import orjson
import pytest

from services.worker.context import WorkerContext
from services.worker.memory import extract
from services.worker.memory.extract import extract_memories, grounded, parse_facts
from shared.jobs import MemoryExtractionJob
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER

pytestmark = pytest.mark.usefixtures("no_memories")


def test_marker_is_shared_with_the_fake() -> None:
    assert extract.MARKER == MEMORY_EXTRACTION_MARKER


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
    assert len(parse_facts(many)) == extract.MAX_FACTS


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


def job(owner: str, reply: str = "Noted.") -> MemoryExtractionJob:
    return MemoryExtractionJob(
        turn_id="t-" + owner[:6],
        channel="web",
        owner_message=owner,
        reply=reply,
        model="fake-model",
    )


async def test_extraction_saves_what_the_owner_said(
    worker_app: WorkerContext, fake_llm: FakeLLM, db
) -> None:
    fake_llm.clear()
    owner = "My dog Rex turned 7 today! {{fact/person: The owner's dog Rex is 7 years old.}}"
    outcome = await extract_memories({"aion": worker_app}, job(owner).model_dump())
    assert outcome == "saved 1"
    [request] = [r for r in fake_llm.requests if MEMORY_EXTRACTION_MARKER in str(r)]
    assert request["model"] == "fake-model"
    assert "<owner>\n" + owner in request["messages"][1]["content"]
    rows = await (
        await db.execute("SELECT content, category, source, turn_id FROM memories")
    ).fetchall()
    assert rows == [("The owner's dog Rex is 7 years old.", "person", "auto", "t-My dog")]


async def test_facts_only_the_reply_carried_are_dropped(worker_app: WorkerContext, db) -> None:
    """A reply quoting a web page (tool output) proposes a fact; its names are not the owner's."""
    reply = "The page says: {{fact: The owner's new employer is Initech in Austin since 2019.}}"
    outcome = await extract_memories(
        {"aion": worker_app}, job("What does that page say about me?", reply).model_dump()
    )
    assert outcome == "saved 0"
    assert await (await db.execute("SELECT count(*) FROM memories")).fetchone() == (0,)
