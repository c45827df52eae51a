"""The providers' prompt caches: consecutive requests of a conversation start with the same bytes
(system prompt, tools, earlier messages), what changes every turn comes after them, Anthropic's
requests carry cache breakpoints, OpenAI's a `prompt_cache_key`, and the cached input tokens
the provider reports reach the `usage` event."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import orjson

from services.worker.agent import prompt_cache_key
from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.base import ProviderRequest, ToolSpec, Usage
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from services.worker.providers.router import _sends_cache_key
from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM
from tests.fakellm.script import message_text
from tests.helpers import chat
from tests.sse import SSEEvent

TOOL = ToolSpec("clock", "The time.", {"type": "object", "properties": {}})
NOTE = "[Note from AION] Current time: 2026-01-01 10:0{} UTC."


def usage_events(events: list[SSEEvent]) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == "usage"]


def openai_requests(fake: FakeLLM, channel: str) -> list[dict[str, Any]]:
    return [r for r in fake.requests if f"Channel: {channel}." in str(r["messages"][0])]


def marks(body: dict[str, Any]) -> list[str]:
    """Where the request's cache breakpoints are: `tools`, `system` or `messages.I.J`."""
    found = [f"tools.{i}" for i, t in enumerate(body.get("tools") or ()) if "cache_control" in t]
    found += [f"system.{i}" for i, b in enumerate(body["system"]) if "cache_control" in b]
    for i, message in enumerate(body["messages"]):
        content = message["content"]
        if isinstance(content, list):
            found += [f"messages.{i}.{j}" for j, b in enumerate(content) if "cache_control" in b]
    return found


def turn(note: int, text: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [{"type": "text", "text": NOTE.format(note)}, {"type": "text", "text": text}],
    }


async def test_anthropic_breakpoints_and_cached_tokens(fake_anthropic: FakeAnthropic) -> None:
    adapter = AnthropicProvider(
        api_key="sk-ant-test", base_url=fake_anthropic.base_url, timeout=10, max_retries=0
    )
    system = {"role": "system", "content": "You are AION. " * 20}
    history: list[dict[str, Any]] = []
    usages: list[Usage] = []
    bodies: list[dict[str, Any]] = []
    try:
        for n, said in enumerate(["hello there", "and again", "a third time"]):
            request = ProviderRequest(
                "claude-sonnet-4-5", [system, *history, turn(n, said)], tools=[TOOL]
            )
            chunks = [c async for c in adapter.stream(request)]
            usages += [c for c in chunks if isinstance(c, Usage)]
            bodies.append(fake_anthropic.requests[-1]["body"])
            history += [{"role": "user", "content": said}, {"role": "assistant", "content": "ok"}]
    finally:
        await adapter.aclose()
    # the stable prefix (tools, then system) ends on a breakpoint; the history on another
    assert marks(bodies[0]) == ["system.0"]
    assert marks(bodies[1]) == ["system.0", "messages.1.0"]
    assert marks(bodies[2]) == ["system.0", "messages.3.0"]
    # the same bytes up to the last earlier message; the note comes after them
    for earlier, later in itertools.pairwise(bodies):
        assert earlier["tools"] == later["tools"] and earlier["system"] == later["system"]
        assert unmarked(later["messages"][: len(earlier["messages"]) - 1]) == unmarked(
            earlier["messages"][:-1]
        )
    first, second, third = usages
    assert first.cached_input_tokens == 0
    assert second.cached_input_tokens is not None and second.cached_input_tokens > 0
    # the third reads the second's history breakpoint too: more than the system prompt
    assert third.cached_input_tokens is not None
    assert third.cached_input_tokens > second.cached_input_tokens
    assert all(u.input_tokens > (u.cached_input_tokens or 0) for u in usages)


def unmarked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    plain: list[dict[str, Any]] = orjson.loads(
        orjson.dumps(messages).replace(b',"cache_control":{"type":"ephemeral"}', b"")
    )
    return plain


async def test_a_tool_loop_marks_its_last_result(fake_anthropic: FakeAnthropic) -> None:
    adapter = AnthropicProvider(
        api_key="sk-ant-test", base_url=fake_anthropic.base_url, timeout=10, max_retries=0
    )
    call = {"id": "call_1", "type": "function", "function": {"name": "clock", "arguments": "{}"}}
    messages = [
        {"role": "system", "content": "You are AION."},
        turn(1, "what time is it?"),
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "10:01"},
    ]
    try:
        request = ProviderRequest("claude-sonnet-4-5", messages, tools=[TOOL])
        [c async for c in adapter.stream(request)]
    finally:
        await adapter.aclose()
    body = fake_anthropic.requests[-1]["body"]
    assert marks(body) == ["system.0", "messages.1.0", "messages.2.0"]  # at most 4


def test_prompt_cache_key_only_where_it_is_understood() -> None:
    request = ProviderRequest("gpt-5-mini", [{"role": "user", "content": "hi"}], cache_key="k1")
    sends = OpenAICompatibleProvider(
        api_key="k", base_url=None, timeout=1, max_retries=0, send_cache_key=True
    )
    quiet = OpenAICompatibleProvider(api_key="k", base_url=None, timeout=1, max_retries=0)
    assert sends.build_body(request)["prompt_cache_key"] == "k1"
    assert "prompt_cache_key" not in quiet.build_body(request)
    assert _sends_cache_key("auto", "openai", None)
    assert _sends_cache_key("auto", "openai", "https://api.openai.com/v1")
    assert not _sends_cache_key("auto", "openai", "http://vllm.local:8000/v1")
    assert not _sends_cache_key("auto", "deepseek", "https://api.deepseek.com")
    assert _sends_cache_key("on", "ollama", "http://localhost:11434/v1")
    assert not _sends_cache_key("off", "openai", None)
    assert prompt_cache_key("telegram:123") != prompt_cache_key("telegram:124")
    assert "123" not in prompt_cache_key("telegram:123")


async def test_a_conversations_requests_share_their_prefix_and_report_the_cache(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    _, first = await chat(client, "hello there", channel)
    _, second = await chat(client, "and again", channel)
    _, third = await chat(client, "a third time", channel)
    bodies = openai_requests(fake_llm, channel)
    assert len(bodies) == 3
    keys = {b["prompt_cache_key"] for b in bodies}
    assert keys == {prompt_cache_key(channel)}
    for earlier, later in itertools.pairwise(bodies):
        assert earlier["tools"] == later["tools"]
        # system prompt and earlier messages, byte for byte; the note only in the latest
        shared = len(earlier["messages"]) - 1
        assert orjson.dumps(later["messages"][:shared]) == orjson.dumps(
            earlier["messages"][:shared]
        )
        note, said = later["messages"][-1]["content"]
        assert note["text"].startswith("[Note from AION] Current time: ")
        assert said["text"] in ("and again", "a third time")
    # what the fake read from its cache arrives in the usage event
    assert usage_events(first)[-1]["cached_input_tokens"] == 0
    words = [len(message_text(m["content"]).split()) for m in bodies[2]["messages"]]
    assert usage_events(second)[-1]["cached_input_tokens"] == words[0]  # the system prompt
    # the third shares the system prompt and the first exchange with the second
    assert usage_events(third)[-1]["cached_input_tokens"] == sum(words[:3])


async def test_anthropic_usage_event_reports_cached_tokens(
    client: httpx.AsyncClient, fake_anthropic: FakeAnthropic, channel: str
) -> None:
    _, first = await chat(client, "hello there", channel, model="claude-sonnet-4-5")
    _, second = await chat(client, "and again", channel, model="claude-sonnet-4-5")
    sent = [
        r["body"]
        for r in fake_anthropic.requests
        if f"Channel: {channel}." in str(r["body"]["system"])
    ]
    assert [marks(b)[0] for b in sent] == ["system.0", "system.0"]
    assert usage_events(first)[-1]["cached_input_tokens"] == 0
    assert usage_events(second)[-1]["cached_input_tokens"] > 0
