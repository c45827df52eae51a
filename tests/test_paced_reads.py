"""Paced reads of a provider's stream (services/worker/providers/http_client.py `PacedReader`):
a fast stream is read about once per flush window once its answer has begun, a slow one as it
comes, and the end of an answer is never waited for; every token arrives, in order."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
import uvloop

from services.worker.providers import http_client
from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.base import LLMProvider, ProviderError, ProviderRequest, TextDelta
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines each read of the stream brought (one entry per read)."""
    counted: list[int] = []
    real = http_client.sse_lines

    async def counting(response: httpx2.Response) -> AsyncIterator[list[bytes]]:
        async for lines in real(response):
            counted.append(len(lines))
            yield lines

    monkeypatch.setattr(http_client, "sse_lines", counting)
    return counted


def openai_provider(fake: FakeLLM) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        api_key="sk-test-paced", base_url=fake.base_url, timeout=10, max_retries=0
    )


def asking(message: str, window: float, model: str = "gpt-4o-mini") -> ProviderRequest:
    return ProviderRequest(model, [{"role": "user", "content": message}], read_window=window)


async def text_of(adapter: LLMProvider, request: ProviderRequest) -> str:
    try:
        return "".join([c.text async for c in adapter.stream(request) if isinstance(c, TextDelta)])
    finally:
        await adapter.aclose()


def tokens(n: int) -> str:
    return "".join(f"t{i} " for i in range(n))


async def test_a_fast_stream_is_read_about_once_per_window(
    fake_llm: FakeLLM, reads: list[int]
) -> None:
    # 40 tokens 5 ms apart: 200 ms, read as they come that is ~40 reads of one token (two
    # lines) each; once per 50 ms, ~5 reads of ~10 tokens. A window that a busy machine left
    # with a single token ends the pacing (a slow stream is read as it comes), so what counts
    # is that windows of several tokens were read at once, and far fewer reads than tokens.
    text = await text_of(openai_provider(fake_llm), asking("[[tokens=40 gap=5]]", 0.05))
    assert text == tokens(40)
    assert sum(lines >= 8 for lines in reads) >= 2, reads
    assert len(reads) <= 24, reads


async def test_a_slow_stream_is_read_as_it_comes(fake_llm: FakeLLM, reads: list[int]) -> None:
    # 120 ms apart is slower than half the 200 ms window: pausing would only add wake-ups.
    # Read as it comes: a read per token (the first and last share theirs with the role and
    # the end); paused, 8 tokens over 840 ms would take about 5.
    text = await text_of(openai_provider(fake_llm), asking("[[tokens=8 gap=120]]", 0.2))
    assert text == tokens(8)
    assert len(reads) >= 7, reads


async def test_the_end_of_an_answer_is_not_waited_for(fake_llm: FakeLLM) -> None:
    started = time.perf_counter()
    text = await text_of(openai_provider(fake_llm), asking("[[tokens=30]]", 1.0))
    assert text == tokens(30)
    assert time.perf_counter() - started < 0.9  # a whole window would be 1 s


async def test_a_short_burst_is_not_paced(fake_llm: FakeLLM) -> None:
    """Three tokens 5 ms apart: the reads after the first text are fast, but too few to tell a
    pace; pausing after the second token would hold the last one back a whole window (1 s)."""
    started = time.perf_counter()
    text = await text_of(openai_provider(fake_llm), asking("[[tokens=3 gap=5]]", 1.0))
    assert text == tokens(3)
    assert time.perf_counter() - started < 0.5


async def test_the_first_token_is_not_held_back(fake_llm: FakeLLM) -> None:
    adapter = openai_provider(fake_llm)
    request = asking("[[tokens=3 gap=300]]", 1.0)
    started = time.perf_counter()
    try:
        async for chunk in adapter.stream(request):
            if isinstance(chunk, TextDelta):
                assert time.perf_counter() - started < 0.5
                break
    finally:
        await adapter.aclose()


async def test_an_anthropic_answer_arrives_whole_and_at_most_a_window_late() -> None:
    with FakeAnthropic() as fake:
        adapter = AnthropicProvider(
            api_key="sk-ant-test", base_url=fake.base_url, timeout=10, max_retries=0
        )
        started = time.perf_counter()
        text = await text_of(adapter, asking("Say hello", 0.5, model="claude-sonnet-4-5"))
        elapsed = time.perf_counter() - started
    assert text
    assert elapsed < 1.0  # its `message_stop` ends the pacing: never two windows


def test_a_stream_cut_off_during_a_paced_wait_is_a_provider_error(fake_llm: FakeLLM) -> None:
    """The connection closes while the reader leaves it unread: the turn gets the provider's
    error, not a crash of the reader over a socket that is gone. Under uvloop, the worker's
    loop, whose socket of a closed transport refuses every call."""

    async def read() -> str:
        return await text_of(openai_provider(fake_llm), asking("[[tokens=40 gap=5 drop=15]]", 0.3))

    with pytest.raises(ProviderError):
        uvloop.run(read())
