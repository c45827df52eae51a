"""GET/DELETE /api/memory, recall into the prompt and automatic extraction, end to end: the real
api and worker processes, PostgreSQL, Redis and the fake LLM."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from redis.asyncio import Redis

from services.worker.context import WorkerContext
from services.worker.memory import store
from services.worker.memory.store import Candidate
from shared.embed_rpc import REQUESTS_KEY, EmbedUnavailable, request_embeddings
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.helpers import chat, eventually

pytestmark = pytest.mark.usefixtures("no_memories")


async def seed(app: WorkerContext, *contents: str, category: str = "general") -> list[int]:
    saved = await store.save(
        app, [Candidate(c, category) for c in contents], source="tool", channel="web", turn_id=None
    )
    return [s.id for s in saved]


async def page(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/memory", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_owner_settings(client: httpx.AsyncClient, **values: Any) -> None:
    response = await client.post("/api/config/settings", json=values)
    assert response.status_code == 200, response.text


async def wait_for_memories(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        body = await page(client)
        if body["total"] >= count:
            entries: list[dict[str, Any]] = body["entries"]
            return entries
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} memories after 15 s")


def extraction_requests(fake: FakeLLM, needle: str) -> list[dict[str, Any]]:
    return [
        r
        for r in fake.requests
        if MEMORY_EXTRACTION_MARKER in str(r["messages"][0]) and needle in str(r["messages"])
    ]


async def test_list_newest_first_with_pages_and_totals(
    client: httpx.AsyncClient, worker_app: WorkerContext
) -> None:
    assert await page(client) == {"entries": [], "total": 0, "returned": 0, "has_more": False}
    people = await seed(
        worker_app,
        *[f"The owner's cousin Nr{i} lives in town {i}." for i in range(5)],
        category="person",
    )
    others = await seed(
        worker_app, *[f"The owner owns {i} ukuleles of colour {i}." for i in range(7)]
    )
    first = await page(client, limit=5)
    assert (first["total"], first["returned"], first["has_more"]) == (12, 5, True)
    assert [e["id"] for e in first["entries"]] == sorted(others, reverse=True)[:5]
    entry = first["entries"][0]
    # no score; `summary` is `content` under the old clients' name
    assert set(entry) == {"id", "timestamp", "category", "content", "summary", "channel"}
    assert entry["summary"] == entry["content"]
    assert entry["channel"] == "web" and entry["category"] == "general"
    last = await page(client, limit=5, offset=10)
    assert (last["total"], last["returned"], last["has_more"]) == (12, 2, False)
    assert await page(client, offset=50) == {
        "entries": [],
        "total": 12,
        "returned": 0,
        "has_more": False,
    }
    person = await page(client, category="person")
    assert person["total"] == 5 and {e["id"] for e in person["entries"]} == set(people)
    default = await page(client)
    assert default["returned"] == 12  # limit defaults to 80


async def test_search_end_to_end(client: httpx.AsyncClient, worker_app: WorkerContext) -> None:
    [sister] = await seed(worker_app, "The owner's sister is called Anna.")
    await seed(
        worker_app, "The owner drinks green tea every morning.", "The owner's car is a blue Volvo."
    )
    body = await page(client, search="What's my sister's name?")
    assert body["entries"][0]["id"] == sister and 0 < body["entries"][0]["score"] <= 1
    assert body["total"] == body["returned"] >= 1
    scores = [e["score"] for e in body["entries"]]
    assert scores == sorted(scores, reverse=True)
    # exact words count too; a category filter applies to searches
    assert (await page(client, search="Volvo"))["entries"][0]["content"].endswith("blue Volvo.")
    assert (await page(client, search="Anna", category="person"))["total"] == 0
    # a search nothing is near finds nothing
    assert (await page(client, search="quantum chromodynamics lecture"))["total"] == 0


async def test_bad_parameters(client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, str | int], str]] = [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"category": "Not A Category"}, "category"),
        ({"search": "x" * 1001}, "search"),
        ({"search": "a\x00\u00f3"}, "NUL"),  # found by tests/test_fuzz.py: was a 500
    ]
    for params, field in cases:
        response = await client.get("/api/memory", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"] == "ValidationError" and field in response.json()["detail"]
    assert (await client.delete("/api/memory/abc")).status_code == 422
    assert (await client.delete("/api/memory/0")).status_code == 422
    assert (await anonymous.get("/api/memory")).status_code == 401
    assert (await anonymous.delete("/api/memory")).status_code == 401


async def test_delete_one_and_all(client: httpx.AsyncClient, worker_app: WorkerContext) -> None:
    ids = await seed(
        worker_app, "The owner's locker is 12.", "The owner's seat is 4C.", "The owner's desk is 9."
    )
    response = await client.delete(f"/api/memory/{ids[0]}")
    assert response.status_code == 200 and response.json() == {"ok": True}
    response = await client.delete(f"/api/memory/{ids[0]}")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": f"No memory with id {ids[0]}."}
    assert (await page(client))["total"] == 2
    assert (await client.delete("/api/memory")).json() == {"ok": True, "deleted": 2}
    assert (await client.delete("/api/memory")).json() == {"ok": True, "deleted": 0}

    async def status_says_none() -> bool:  # the public status counts every few seconds
        await asyncio.sleep(0.2)  # polled gently: the public routes are rate-limited
        return bool((await client.get("/api/status")).json()["memory_entries"] == 0)

    await eventually(status_says_none, "the status to count no memories", timeout=10.0)


async def test_recall_goes_into_the_note_of_the_owners_message(
    client: httpx.AsyncClient, worker_app: WorkerContext, fake_llm: FakeLLM, channel: str
) -> None:
    await seed(worker_app, "The owner's sister is called Anna.", "The owner hates cilantro.")
    _, events = await chat(client, "What is my sister's name? [[echo_history]]", channel)
    system, *_, latest = events[-1].data["full_response"].split(" | ")
    assert "<memories>" not in system  # the system prompt stays the same from turn to turn
    assert latest.startswith("user:[Note from AION] Current time: ")
    assert "## Memories" in latest and "<memories>" in latest
    assert latest.endswith("</memories> What is my sister's name? [[echo_history]]")
    block = latest.split("<memories>")[1]
    assert "The owner's sister is called Anna." in block and "cilantro" not in block
    sent = [r for r in fake_llm.requests if f"Channel: {channel}" in str(r["messages"][0])]
    note, owner = sent[-1]["messages"][-1]["content"]
    assert "The owner's sister is called Anna." in note["text"]
    assert owner == {"type": "text", "text": "What is my sister's name? [[echo_history]]"}
    # nothing relevant: no memory block at all
    _, events = await chat(client, "Good morning! [[echo_history]]", channel)
    latest = events[-1].data["full_response"].split(" | ")[-1]
    assert latest.startswith("user:[Note from AION]") and "<memories>" not in latest


async def test_facts_are_extracted_after_the_turn(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    message = "My dog Rex turned 7 today! {{fact/person: The owner's dog Rex is 7 years old.}}"
    try:  # idle 0: read after every turn (batching is tests/memory/test_batching.py)
        await set_owner_settings(client, check_model="fake-model-2", memory_extract_idle_seconds=0)
        _, events = await chat(client, message, channel)
        assert events[-1].type == "done"
        [entry] = await wait_for_memories(client, 1)
    finally:
        await set_owner_settings(client, check_model="", memory_extract_idle_seconds=120)
    assert entry["content"] == "The owner's dog Rex is 7 years old."
    assert (entry["category"], entry["channel"]) == ("person", channel)
    [request] = extraction_requests(fake_llm, "My dog Rex turned 7")
    assert request["model"] == "fake-model-2"  # the cheap check_model
    # only the owner's words and the final reply: the extractor sees no system prompt of the turn
    assert request["messages"][1]["content"].startswith("<exchange>\n<owner>\n" + message)
    assert "You said:" in request["messages"][1]["content"]
    assert "## Context" not in str(request["messages"])


async def test_no_extraction_with_memory_auto_off(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await set_owner_settings(client, memory_auto=False)
        headers, events = await chat(
            client, "I live in Graz. {{fact: The owner lives in Graz.}}", channel
        )
        assert events[-1].type == "done"
        job = headers["x-aion-job"]

        # The barrier: the turn's job has ended (arq keeps its result), and a turn queues its
        # extraction before its job ends, so an extraction job would exist by now.
        async def turn_job_ended() -> bool:
            return bool(await redis.exists(result_key_prefix + job))

        await eventually(turn_job_ended, "the turn's job to end")
        extraction = f"extract-{job}"
        for prefix in (job_key_prefix, in_progress_key_prefix, result_key_prefix):
            assert not await redis.exists(prefix + extraction), prefix
    finally:
        await redis.aclose()
        await set_owner_settings(client, memory_auto=True)
    assert extraction_requests(fake_llm, "I live in Graz") == []
    assert (await page(client))["total"] == 0


async def test_embedding_requests_time_out_without_a_worker(redis_url: str) -> None:
    """On a Redis database no worker listens to: a clear failure, and no request left behind."""
    redis = Redis.from_url(redis_url.rsplit("/", 1)[0] + "/14")
    try:
        await redis.delete(REQUESTS_KEY)
        with pytest.raises(EmbedUnavailable, match="no worker"):
            await request_embeddings(redis, ["hello"], 0.3)
        assert await redis.llen(REQUESTS_KEY) == 0
    finally:
        await redis.aclose()
