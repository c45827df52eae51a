"""The providers stream through the SDKs' aiohttp-backed client by default
(services/worker/providers/http_client.py); errors, retries and cut-off streams must come out
exactly as through the SDKs' own httpx2 client, against the local fakes of both wire formats."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.base import (
    LLMProvider,
    ProviderChunk,
    ProviderError,
    ProviderRequest,
    TextDelta,
)
from services.worker.providers.http_client import Transport, sse_lines
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM

TRANSPORTS: tuple[Transport, ...] = ("aiohttp", "httpx")


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def openai_provider(
    fake: FakeLLM, transport: Transport, retries: int = 0
) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        api_key="sk-test-transport",
        base_url=fake.base_url,
        timeout=10,
        max_retries=retries,
        transport=transport,
    )


async def run(adapter: LLMProvider, model: str, text: str) -> list[ProviderChunk]:
    try:
        return [
            c
            async for c in adapter.stream(
                ProviderRequest(model, [{"role": "user", "content": text}])
            )
        ]
    finally:
        await adapter.aclose()


async def failure(adapter: LLMProvider, model: str, text: str) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await run(adapter, model, text)
    return caught.value


def test_the_aiohttp_client_is_the_default() -> None:
    oa = OpenAICompatibleProvider(
        api_key="k", base_url="http://127.0.0.1:9", timeout=1, max_retries=0
    )
    an = AnthropicProvider(api_key="k", base_url="http://127.0.0.1:9", timeout=1, max_retries=0)
    assert isinstance(oa._client._client, openai.DefaultAioHttpClient)
    assert isinstance(an._client._client, anthropic.DefaultAioHttpClient)
    plain = OpenAICompatibleProvider(
        api_key="k", base_url="http://127.0.0.1:9", timeout=1, max_retries=0, transport="httpx"
    )
    assert not isinstance(plain._client._client, openai.DefaultAioHttpClient)


async def test_openai_stream_is_the_same_through_both_clients(fake_llm: FakeLLM) -> None:
    results = [
        await run(openai_provider(fake_llm, t), "gpt-4o-mini", "[[tokens=40]] x")
        for t in TRANSPORTS
    ]
    assert results[0] == results[1]
    assert "".join(c.text for c in results[0] if isinstance(c, TextDelta)) == "".join(
        f"t{i} " for i in range(40)
    )


@pytest.mark.parametrize("status", [429, 500])
async def test_openai_status_errors_and_retries_map_the_same(
    fake_llm: FakeLLM, status: int
) -> None:
    errors = []
    for transport in TRANSPORTS:
        before = len(fake_llm.requests)
        error = await failure(
            openai_provider(fake_llm, transport, retries=1), "gpt-4o-mini", f"[[fail={status}]] x"
        )
        assert len(fake_llm.requests) - before == 2, "the SDK retried once"
        errors.append((error.status, error.message))
    assert errors[0] == errors[1]
    assert errors[0][0] == status and f"HTTP {status}" in errors[0][1]
    assert "sk-test-transport" not in errors[0][1]


async def test_openai_stream_cut_off_half_way_is_a_provider_error(fake_llm: FakeLLM) -> None:
    for transport in TRANSPORTS:
        error = await failure(
            openai_provider(fake_llm, transport), "gpt-4o-mini", "[[tokens=10 drop=3]] x"
        )
        assert error.status is None and "gpt-4o-mini" in error.message


async def test_unreachable_provider_is_a_connection_error() -> None:
    messages = []
    for transport in TRANSPORTS:
        adapter = OpenAICompatibleProvider(
            api_key="k",
            base_url="http://127.0.0.1:9/v1",
            timeout=2,
            max_retries=0,
            transport=transport,
        )
        messages.append((await failure(adapter, "gpt-4o-mini", "x")).message)
    assert all("could not reach the provider" in m for m in messages)


@pytest.mark.parametrize("status", [429, 500])
async def test_anthropic_status_errors_map_the_same(
    fake_anthropic: FakeAnthropic, status: int
) -> None:
    errors = []
    for transport in TRANSPORTS:
        adapter = AnthropicProvider(
            api_key="sk-ant-transport",
            base_url=fake_anthropic.base_url,
            timeout=10,
            max_retries=0,
            transport=transport,
        )
        error = await failure(adapter, f"claude-fail-{status}", "x")
        errors.append((error.status, error.message))
    assert errors[0] == errors[1] and errors[0][0] == status
    assert "Scripted failure" in errors[0][1]


class _Chunks:
    """Just enough of an httpx2 response for `sse_lines`: bytes split at awkward places."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def aiter_bytes(self) -> Iterator[bytes]:  # type: ignore[misc]
        for chunk in self._chunks:
            yield chunk


async def test_sse_lines_joins_lines_split_across_chunks() -> None:
    chunks = [b'data: {"a"', b": 1}\r", b"\n\r\ndata: 2\n", b"\nevent: x\ndata: ", b"3"]
    lines = [line async for batch in sse_lines(_Chunks(chunks)) for line in batch]  # type: ignore[arg-type]
    assert [line for line in lines if line] == [
        b'data: {"a": 1}',
        b"data: 2",
        b"event: x",
        b"data: 3",
    ]
