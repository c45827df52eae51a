"""The Anthropic adapter through the real `anthropic` SDK against a local fake of the Messages
API: streaming, thinking, tool use, errors, 429 with retry-after, and history written in the
canonical (OpenAI) format, tool calls included, translated into a request the API accepts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.anthropic_messages import NO_RESULT, translate
from services.worker.providers.base import (
    ProviderChunk,
    ProviderError,
    ProviderRequest,
    ReasoningBlock,
    ReasoningDelta,
    TextDelta,
    ThinkingLevel,
    ToolCallRequest,
    ToolSpec,
    Usage,
)
from services.worker.providers.http_client import Transport
from tests.fakeanthropic import FakeAnthropic
from tests.fakeanthropic.app import signature
from tests.fakeanthropic.validate import Invalid, check_request

CLOCK = ToolSpec("clock", "What time is it", {"type": "object", "properties": {}})
# A conversation as the agent loop stores it, written while an OpenAI model was active.
HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "You are AION."},
    {"role": "user", "content": "what time is it, and the weather?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_abc.1",
                "type": "function",
                "function": {"name": "clock", "arguments": "{}"},
            },
            {
                "id": "call_abc.2",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_abc.1", "content": "12:00"},
    {"role": "tool", "tool_call_id": "call_abc.2", "content": "rain"},
    {"role": "assistant", "content": "It is noon and it rains in Oslo."},
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def provider(fake: FakeAnthropic, retries: int = 0) -> AnthropicProvider:
    return AnthropicProvider(
        api_key="sk-ant-test", base_url=fake.base_url, timeout=10, max_retries=retries
    )


async def run(
    adapter: AnthropicProvider,
    messages: list[dict[str, Any]],
    model: str = "claude-sonnet-4-5",
    thinking: ThinkingLevel = "off",
    tools: list[ToolSpec] | None = None,
) -> list[ProviderChunk]:
    request = ProviderRequest(model, messages, tools=tools or [], thinking=thinking)
    try:
        return [chunk async for chunk in adapter.stream(request)]
    finally:
        await adapter.aclose()


def sent_key(headers: dict[str, str]) -> str:
    """The key as the SDK sent it (x-api-key, or a bearer token as this SDK version does)."""
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


def text(chunks: list[ProviderChunk]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextDelta))


async def test_streams_text_and_usage_with_the_key_and_system_prompt(fake: FakeAnthropic) -> None:
    chunks = await run(provider(fake), [*HISTORY, {"role": "user", "content": "hello there"}])
    assert text(chunks) == "You said: hello there"
    assert isinstance(chunks[-1], Usage) and chunks[-1].output_tokens == 4
    assert chunks[-1].input_tokens > 10
    sent = fake.requests[-1]
    assert sent_key(sent["headers"]) == "sk-ant-test"
    # one block, the cache breakpoint that ends the stable prefix (tools, then system)
    assert sent["body"]["system"] == [
        {"type": "text", "text": "You are AION.", "cache_control": {"type": "ephemeral"}}
    ]
    assert "thinking" not in sent["body"]


async def test_history_with_tool_calls_becomes_valid_anthropic_blocks(fake: FakeAnthropic) -> None:
    await run(provider(fake), [*HISTORY, {"role": "user", "content": "thanks"}])
    messages = fake.requests[-1]["body"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    uses = messages[1]["content"]
    assert [(b["type"], b["id"], b["name"], b["input"]) for b in uses] == [
        ("tool_use", "call_abc_1", "clock", {}),
        ("tool_use", "call_abc_2", "weather", {"city": "Oslo"}),
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_abc_1", "content": "12:00"},
        {"type": "tool_result", "tool_use_id": "call_abc_2", "content": "rain"},
    ]


def test_the_fake_refuses_what_the_api_refuses() -> None:
    """The checks that make the translation tests able to fail."""
    raw = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "a", "name": "x", "input": {}}],
        },
        {"role": "user", "content": [{"type": "text", "text": "no result"}]},
    ]
    with pytest.raises(Invalid, match="without tool_result"):
        check_request({"model": "m", "max_tokens": 5, "messages": raw})
    with pytest.raises(Invalid, match="alternate"):
        check_request({"model": "m", "max_tokens": 5, "messages": [raw[0], raw[0]]})
    with pytest.raises(Invalid, match="first message"):
        check_request({"model": "m", "max_tokens": 5, "messages": raw[1:]})


def test_cut_short_and_stray_history_is_repaired() -> None:
    broken: list[dict[str, Any]] = [
        {"role": "assistant", "content": "hi, I start"},
        {"role": "tool", "tool_call_id": "orphan", "content": "stray result"},
        {"role": "user", "content": ""},
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [{"id": "c1", "function": {"name": "clock", "arguments": "not json"}}],
        },
        {"role": "user", "content": [{"type": "text", "text": "never mind"}]},
    ]
    system, messages = translate(broken)
    assert system == ""
    check_request({"model": "m", "max_tokens": 5, "messages": messages})
    assert messages[-1]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "c1",
        "content": NO_RESULT,
        "is_error": True,
    }
    assert messages[-2]["content"][1]["input"] == {"arguments": "not json"}


async def test_images_become_image_blocks(fake: FakeAnthropic) -> None:
    content = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    await run(provider(fake), [{"role": "user", "content": content}])
    blocks = fake.requests[-1]["body"]["messages"][0]["content"]
    assert blocks[1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }
    assert blocks[2]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}


async def test_thinking_streams_as_reasoning_and_comes_back_in_the_tool_loop(
    fake: FakeAnthropic,
) -> None:
    ask = [{"role": "user", "content": "time? [[tool=clock]]"}]
    chunks = await run(provider(fake), ask, thinking="standard", tools=[CLOCK])
    assert (
        "".join(c.text for c in chunks if isinstance(c, ReasoningDelta))
        == "Let me think about this."
    )
    body = fake.requests[-1]["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert body["max_tokens"] > 4096 and body["tools"][0]["input_schema"]["type"] == "object"
    (block,) = [c for c in chunks if isinstance(c, ReasoningBlock)]
    assert block.data["signature"] == signature("Let me think about this.")
    (call,) = [c for c in chunks if isinstance(c, ToolCallRequest)]
    assert call.name == "clock" and call.arguments == {}

    # The loop sends the thinking block back with the call; the fake checks it is there.
    assistant = {
        "role": "assistant",
        "content": "",
        "reasoning_blocks": [block.data],
        "tool_calls": [{"id": call.call_id, "function": {"name": "clock", "arguments": "{}"}}],
    }
    result = {"role": "tool", "tool_call_id": call.call_id, "content": "noon"}
    loop: list[dict[str, Any]] = [*ask, assistant, result]
    chunks = await run(provider(fake), loop, thinking="standard", tools=[CLOCK])
    assert text(chunks) == "Tool results: noon"
    assert fake.requests[-1]["body"]["messages"][1]["content"][0]["type"] == "thinking"

    # Without the block (a loop begun on another provider) the call goes without thinking.
    del assistant["reasoning_blocks"]
    chunks = await run(provider(fake), loop, thinking="deep", tools=[CLOCK])
    assert text(chunks) == "Tool results: noon" and "thinking" not in fake.requests[-1]["body"]


async def test_tool_arguments_streamed_in_pieces(fake: FakeAnthropic) -> None:
    ask = [{"role": "user", "content": 'go [[tool=weather:{"city":"Oslo","days":2}]]'}]
    chunks = await run(provider(fake), ask, tools=[CLOCK])
    (call,) = [c for c in chunks if isinstance(c, ToolCallRequest)]
    assert call.arguments == {"city": "Oslo", "days": 2}
    assert call.call_id.startswith("toolu_")


@pytest.mark.parametrize("status", [400, 401, 500, 529])
async def test_http_errors_are_provider_errors(fake: FakeAnthropic, status: int) -> None:
    with pytest.raises(ProviderError) as caught:
        await run(provider(fake), [{"role": "user", "content": "x"}], model=f"claude-fail-{status}")
    assert caught.value.status == status
    assert "Scripted failure" in caught.value.message and "sk-ant" not in caught.value.message


async def test_an_error_event_mid_stream_after_some_text(fake: FakeAnthropic) -> None:
    seen: list[ProviderChunk] = []
    with pytest.raises(ProviderError, match="overloaded_error"):
        request = ProviderRequest("claude-break-after-2", [{"role": "user", "content": "a b c"}])
        adapter = provider(fake)
        try:
            async for chunk in adapter.stream(request):
                seen.append(chunk)
        finally:
            await adapter.aclose()
    assert text(seen) == "You said:"


async def test_429_is_retried_after_retry_after(fake: FakeAnthropic) -> None:
    before = len(fake.requests)
    started = time.monotonic()
    chunks = await run(
        provider(fake, retries=2), [{"role": "user", "content": "hi"}], "claude-flaky-1"
    )
    assert text(chunks) == "You said: hi"
    assert len(fake.requests) - before == 2 and time.monotonic() - started >= 0.9
    with pytest.raises(ProviderError) as caught:
        await run(provider(fake), [{"role": "user", "content": "hi"}], "claude-flaky-2")
    assert caught.value.status == 429


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    ("model", "says"),
    [
        # three text deltas, then silence: the read timeout's own message is empty (httpx)
        ("claude-stall-after-3", "stopped sending before the answer finished (no data for 1 s"),
        ("claude-end-after-3", "stream ended before the answer finished (no message_stop)"),
        ("claude-drop-after-3", "the connection to anthropic broke before the answer finished ("),
        ("claude-hang", "anthropic sent no answer within 1 s (timed out)"),
    ],
)
async def test_a_stream_that_stops_short_says_what_happened(
    fake: FakeAnthropic, transport: Transport, model: str, says: str
) -> None:
    adapter = AnthropicProvider(
        api_key="sk-ant-test", base_url=fake.base_url, timeout=1, max_retries=0, transport=transport
    )
    seen: list[ProviderChunk] = []
    request = ProviderRequest(model, [{"role": "user", "content": "one two three four"}])
    with pytest.raises(ProviderError) as caught:
        try:
            async for chunk in adapter.stream(request):
                seen.append(chunk)
        finally:
            await adapter.aclose()
    assert caught.value.message.startswith(f"{model}: ")
    assert says in caught.value.message.lower(), caught.value.message
    assert text(seen) == ("" if model == "claude-hang" else "You said: one")
