"""Providers end to end: real api and worker, every provider family on a local fake.

Models are switched per request and with POST /api/model; the history a turn sends stays valid
for whichever provider takes it; failover happens only before any output.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM
from tests.helpers import chat, tokens_text
from tests.sse import SSEEvent


def of_type(events: list[SSEEvent], kind: str) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == kind]


def anthropic_requests(fake: FakeAnthropic, channel: str) -> list[dict[str, Any]]:
    marker = f"Channel: {channel}."
    return [r for r in fake.requests if marker in str(r["body"].get("system", ""))]


async def set_settings(client: httpx.AsyncClient, **values: Any) -> None:
    response = await client.post("/api/config/settings", json=values)
    assert response.status_code == 200, response.text


async def test_switching_providers_mid_conversation_keeps_history_valid(
    client: httpx.AsyncClient, channel: str, fake_anthropic: FakeAnthropic
) -> None:
    echo = f"call=echo:{quote(json.dumps({'text': 'hi'}))}"
    _, events = await chat(client, f"use the tool [[{echo}]]", channel)  # OpenAI format
    assert events[-1].data["full_response"] == "Tool results: echo:hi"

    _, events = await chat(client, "and now you, Claude", channel, model="claude-sonnet-4-5")
    assert events[-1].type == "done", events[-1].data
    assert events[-1].data["full_response"] == "You said: and now you, Claude"
    (sent,) = anthropic_requests(fake_anthropic, channel)
    messages = sent["body"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    (use,) = messages[1]["content"]
    assert use["type"] == "tool_use" and use["name"] == "echo" and use["input"] == {"text": "hi"}
    assert messages[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": use["id"],
        "content": "echo:hi",
    }

    # Claude asks for a tool in its own format; the turn runs it and Claude gets the result.
    _, events = await chat(client, 'again [[tool=echo:{"text":"yo"}]]', channel, model="claude-x")
    assert [r["result"] for r in of_type(events, "tool_result")] == ["echo:yo"]
    assert events[-1].data["full_response"] == "Tool results: echo:yo"

    # And back to the OpenAI-format model: the whole history, Claude's tool round included.
    _, events = await chat(client, "recap [[echo_history]]", channel)
    echoed = events[-1].data["full_response"]
    assert "assistant:You said: and now you, Claude" in echoed and "tool:echo:yo" in echoed


async def test_failover_before_output_says_so_in_a_thought(
    client: httpx.AsyncClient, channel: str, fake_llm: FakeLLM
) -> None:
    await set_settings(client, model_fallback=["claude-fail-503", "fake-model"])
    try:
        _, events = await chat(client, "hello", channel, model="claude-fail-500")
    finally:
        await set_settings(client, model_fallback=[])
    notes = [t for t in of_type(events, "thought") if t.get("trigger") == "failover"]
    assert len(notes) == 2
    assert "HTTP 500" in notes[0]["text"] and "switching to claude-fail-503" in notes[0]["text"]
    assert "HTTP 503" in notes[1]["text"] and "switching to fake-model" in notes[1]["text"]
    kinds = [e.type for e in events]
    assert kinds.index("thought") < kinds.index("token")
    assert events[-1].data["full_response"] == "You said: hello"


async def test_no_failover_once_output_was_streamed(
    client: httpx.AsyncClient, channel: str
) -> None:
    await set_settings(client, model_fallback=["fake-model"])
    try:
        _, events = await chat(client, "one two three", channel, model="claude-break-after-2")
    finally:
        await set_settings(client, model_fallback=[])
    assert tokens_text(events) == "You said:"
    assert not [t for t in of_type(events, "thought") if t.get("trigger") == "failover"]
    assert events[-1].type == "error" and "overloaded_error" in events[-1].data["message"]


async def test_all_models_failing_ends_with_the_last_error(
    client: httpx.AsyncClient, channel: str
) -> None:
    await set_settings(client, model_fallback=["deepseek-chat"])  # no DEEPSEEK_API_KEY set
    try:
        _, events = await chat(client, "hi", channel, model="claude-fail-500")
    finally:
        await set_settings(client, model_fallback=[])
    assert events[-1].type == "error"
    assert "DEEPSEEK_API_KEY" in events[-1].data["message"]


async def test_providers_list_live_models_and_what_is_configured(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/api/providers")).json()
    providers = {p["id"]: p for p in body["providers"]}
    assert body["total_providers"] == len(providers) == 8
    assert body["active_model"] == "fake-model"
    openai = providers["openai"]
    assert openai["configured"] is True and openai["prefix"] == ""
    assert openai["models"] == ["fake-model", "fake-model-2"]  # the fake's live /v1/models
    assert providers["anthropic"]["configured"] is True  # ANTHROPIC_API_KEY in the env
    assert providers["anthropic"]["env_keys"] == ["ANTHROPIC_API_KEY"]
    deepseek = providers["deepseek"]
    assert deepseek["configured"] is False and "deepseek-chat" in deepseek["models"]
    assert providers["ollama"]["prefix"] == "ollama/"
    assert all(m.startswith("claude-cli/") for m in providers["claude-cli"]["models"])


async def test_post_model_persists_and_routes_the_next_turn(
    client: httpx.AsyncClient, channel: str, fake_anthropic: FakeAnthropic
) -> None:
    for bad in ({"model": ""}, {}, {"model": "two words"}, {"model": 5}):
        response = await client.post("/api/model", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"] == "ValidationError"
    response = await client.post("/api/model", json={"model": "claude-haiku-4-5"})
    assert response.json() == {"ok": True, "model": "claude-haiku-4-5", "provider": "anthropic"}
    try:
        assert (await client.get("/api/config")).json()["model"] == "claude-haiku-4-5"
        _, events = await chat(client, "who answers?", channel)
        assert events[-1].data["full_response"] == "You said: who answers?"
        (sent,) = anthropic_requests(fake_anthropic, channel)
        assert sent["body"]["model"] == "claude-haiku-4-5"
    finally:
        await client.post("/api/model", json={"model": "fake-model"})


async def test_routing_prefix_is_stripped_and_task_routing_default_wins(
    client: httpx.AsyncClient, channel: str, fake_llm: FakeLLM
) -> None:
    fake_llm.clear()
    _, events = await chat(client, "hi", channel, model="openrouter/vendor/model-x")
    # OpenRouter without a key fails clearly; nothing reached any server.
    assert events[-1].type == "error" and "OPENROUTER_API_KEY" in events[-1].data["message"]
    await set_settings(client, task_routing={"default": "fake-model-2"})
    try:
        await chat(client, "routed", channel)
    finally:
        await set_settings(client, task_routing={})
    assert fake_llm.requests[-1]["model"] == "fake-model-2"


@pytest.mark.parametrize("level", ["off", "deep"])
async def test_thinking_level_per_channel_reaches_claude(
    client: httpx.AsyncClient, channel: str, fake_anthropic: FakeAnthropic, level: str
) -> None:
    await set_settings(client, thinking_level="minimal", thinking_overrides={"test-*": level})
    try:
        _, events = await chat(client, "think", channel, model="claude-sonnet-4-5")
    finally:
        await set_settings(client, thinking_level="standard", thinking_overrides={})
    (sent,) = anthropic_requests(fake_anthropic, channel)
    reasoning = [t["text"] for t in of_type(events, "thought") if t.get("trigger") != "failover"]
    if level == "off":
        assert "thinking" not in sent["body"] and not reasoning
    else:
        assert sent["body"]["thinking"] == {"type": "enabled", "budget_tokens": 16384}
        assert "".join(reasoning) == "Let me think about this."
    assert events[-1].data["full_response"] == "You said: think"
