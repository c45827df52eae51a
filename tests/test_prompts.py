"""GET/POST /api/prompt/{name}: defaults, revisions, limits, and use from the next turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shared.prompts import DEFAULT_PROMPTS
from tests.helpers import announce_settings_changed, chat


@pytest.fixture
async def fresh_prompts(db, redis_url: str) -> AsyncIterator[None]:
    """AION's default prompts before and after the test, on every worker (other tests, the
    console's among them, save prompts on the same stack)."""
    await db.execute("DELETE FROM prompt_revisions")
    await announce_settings_changed(redis_url)
    yield
    await db.execute("DELETE FROM prompt_revisions")
    await announce_settings_changed(redis_url)


async def test_defaults_until_saved(client: httpx.AsyncClient, fresh_prompts: None) -> None:
    for name in ("rules", "character", "self"):
        body = (await client.get(f"/api/prompt/{name}")).json()
        assert body == {
            "name": name,
            "content": DEFAULT_PROMPTS[name],
            "updated_at": None,
            "revision": 0,
        }
    assert (await client.get("/api/prompt/self_doc")).json()["name"] == "self"
    response = await client.get("/api/prompt/secrets")
    assert response.status_code == 404 and "rules" in response.json()["detail"]
    response = await client.post("/api/prompt/../../etc/passwd", json={"content": "x"})
    assert response.status_code == 404


async def test_saves_keep_twenty_revisions(client: httpx.AsyncClient, fresh_prompts: None) -> None:
    for n in range(22):
        response = await client.post("/api/prompt/character", json={"content": f"v{n}"})
        assert response.json() == {"ok": True, "name": "character", "bytes": len(f"v{n}")}
    current = (await client.get("/api/prompt/character")).json()
    assert current["content"] == "v21" and current["updated_at"] is not None
    previous = await client.get("/api/prompt/character", params={"revision": 1})
    assert previous.json()["content"] == "v20"
    oldest = await client.get("/api/prompt/character", params={"revision": 19})
    assert oldest.json()["content"] == "v2"
    assert (await client.get("/api/prompt/character", params={"revision": 20})).status_code == 422
    assert (await client.get("/api/prompt/rules", params={"revision": 1})).status_code == 404
    # the alias saves the same prompt
    await client.post("/api/prompt/self_doc", json={"content": "about me"})
    assert (await client.get("/api/prompt/self")).json()["content"] == "about me"


async def test_size_limit_and_bad_bodies(client: httpx.AsyncClient, fresh_prompts: None) -> None:
    response = await client.post("/api/prompt/rules", json={"content": "x" * 100_001})
    assert response.status_code == 422 and "content" in response.json()["detail"]
    response = await client.post("/api/prompt/rules", json={"text": "x"})
    assert response.status_code == 422
    assert (await client.get("/api/prompt/rules")).json()["content"] == DEFAULT_PROMPTS["rules"]


async def test_saved_prompt_is_used_from_the_next_turn(
    client: httpx.AsyncClient, fresh_prompts: None, channel: str
) -> None:
    _, events = await chat(client, "[[echo_history]]", channel)
    assert DEFAULT_PROMPTS["character"] in events[-1].data["full_response"]
    await client.post("/api/prompt/rules", json={"content": "Always answer in French."})
    _, events = await chat(client, "again [[echo_history]]", channel)
    system = events[-1].data["full_response"].split(" | ")[0]
    assert system.startswith("system:Always answer in French.")
    assert DEFAULT_PROMPTS["character"] in system and f"Channel: {channel}" in system
