"""The router at adapter level, with the real SDKs against the local fakes: failover only before
output, clients rebuilt when a key changes (the old one closed once its calls are done)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from services.worker.providers.base import Notice, ProviderError, ProviderRequest, TextDelta
from services.worker.providers.router import ProviderRouter
from services.worker.settings import WorkerSettings
from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM


class Secrets:
    """Stands in for SecretsCache (its PostgreSQL part is covered end to end)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    async def get(self) -> Mapping[str, str]:
        return dict(self.values)


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeLLM, FakeAnthropic]]:
    with FakeLLM() as llm, FakeAnthropic() as anthropic:
        yield llm, anthropic


def router(fakes: tuple[FakeLLM, FakeAnthropic], secrets: Secrets) -> ProviderRouter:
    llm, anthropic = fakes
    settings = WorkerSettings(
        openai_base_url=llm.base_url,
        anthropic_base_url=anthropic.base_url,
        aion_provider_max_retries=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    return ProviderRouter(settings, secrets)  # type: ignore[arg-type]


async def collect(provider: ProviderRouter, request: ProviderRequest) -> list[Any]:
    return [chunk async for chunk in provider.stream(request)]


async def test_failover_order_and_notices(fakes: tuple[FakeLLM, FakeAnthropic]) -> None:
    provider = router(fakes, Secrets({"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}))
    messages = [{"role": "user", "content": "hello"}]
    request = ProviderRequest(
        "claude-fail-500", messages, fallbacks=("claude-fail-529", "fake-model", "never-used")
    )
    chunks = await collect(provider, request)
    notices = [c for c in chunks if isinstance(c, Notice)]
    assert [n.trigger for n in notices] == ["failover", "failover"]
    assert "switching to claude-fail-529" in notices[0].text
    assert "switching to fake-model" in notices[1].text
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "You said: hello"
    assert fakes[0].requests[-1]["model"] == "fake-model"
    await provider.aclose()


async def test_no_failover_after_output(fakes: tuple[FakeLLM, FakeAnthropic]) -> None:
    provider = router(fakes, Secrets({"ANTHROPIC_API_KEY": "sk-a"}))
    request = ProviderRequest(
        "claude-break-after-1", [{"role": "user", "content": "a b"}], fallbacks=("fake-model",)
    )
    seen: list[Any] = []
    with pytest.raises(ProviderError, match="overloaded"):
        async for chunk in provider.stream(request):
            seen.append(chunk)
    assert seen == [TextDelta("You")]
    await provider.aclose()


async def test_a_changed_key_builds_a_new_client(fakes: tuple[FakeLLM, FakeAnthropic]) -> None:
    secrets = Secrets({"ANTHROPIC_API_KEY": "sk-first"})
    provider = router(fakes, secrets)
    anthropic = fakes[1]
    request = ProviderRequest("claude-x", [{"role": "user", "content": "hi"}])
    # A stream that started with the old key keeps its client until it is done.
    old_stream = provider.stream(request)
    await old_stream.__anext__()
    first = provider._clients["anthropic"]
    secrets.values["ANTHROPIC_API_KEY"] = "sk-second"
    await collect(provider, ProviderRequest("claude-x", [{"role": "user", "content": "hi"}]))
    assert provider._clients["anthropic"] is not first and first.retired
    assert not first.adapter._client.is_closed()  # type: ignore[attr-defined]
    rest = [chunk async for chunk in old_stream]
    assert "".join(c.text for c in rest if isinstance(c, TextDelta)) == " said: hi"
    assert first.adapter._client.is_closed()  # type: ignore[attr-defined]
    headers = [r["headers"].get("authorization") for r in anthropic.requests[-2:]]
    assert headers == ["Bearer sk-first", "Bearer sk-second"]
    await provider.aclose()


async def test_missing_keys_say_which(fakes: tuple[FakeLLM, FakeAnthropic]) -> None:
    provider = router(fakes, Secrets({}))
    with pytest.raises(ProviderError, match="XAI_API_KEY"):
        await collect(provider, ProviderRequest("grok-4", [{"role": "user", "content": "x"}]))
    await provider.aclose()


async def test_a_key_quoted_in_an_error_is_masked(fakes: tuple[FakeLLM, FakeAnthropic]) -> None:
    key = "sk-ant-quoted-0123456789"
    provider = router(fakes, Secrets({"ANTHROPIC_API_KEY": key}))
    with pytest.raises(ProviderError) as caught:
        await collect(
            provider, ProviderRequest("claude-quotes-key", [{"role": "user", "content": "x"}])
        )
    assert key not in caught.value.message and "sk-a…6789" in caught.value.message
    assert caught.value.status == 401
    await provider.aclose()
