"""The model provider failing on purpose, on real processes: an api and a worker of this module's
own, whose OpenAI-compatible provider (the fake, tests/fakellm) is reached through a TCP hop the
test can cut; the Anthropic fake (tests/fakeanthropic) stalls, ends or cuts its own streams.
The worker retries once (AION_PROVIDER_MAX_RETRIES=1) and gives a silent provider two seconds
(AION_PROVIDER_TIMEOUT_SECONDS=2), so every failure has a bound.

Each test says what the owner saw (a retried answer, or one `error` event, in time), what
PostgreSQL holds after (the question, and of the answer only what the owner was shown), how often
the model was asked, and that the next turn on the channel works.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis

from tests.fakeanthropic import FakeAnthropic
from tests.fakellm import FakeLLM
from tests.fault_helpers import (
    TcpProxy,
    Turn,
    api_and_worker,
    counted,
    model_calls,
    owner_client,
    stored_messages,
)
from tests.helpers import chat, tokens_text
from tests.stack import Stack

TIMEOUT_SECONDS = 2
RETRIES = 1
# The SDK's wait before a retry, when it does not take the server's Retry-After (at most 8 s).
MAX_BACKOFF_SECONDS = 8
# A silent provider: every attempt times out, with one backoff between them, plus slack.
HANG_BOUND = (RETRIES + 1) * TIMEOUT_SECONDS + MAX_BACKOFF_SECONDS + 3


@pytest.fixture(scope="module")
def proxy(fake_llm: FakeLLM) -> Iterator[TcpProxy]:
    hop = TcpProxy(fake_llm.port).start()
    try:
        yield hop
    finally:
        hop.stop()


@pytest.fixture(scope="module")
def provider_stack(
    service_env: dict[str, str], proxy: TcpProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # A Redis database of its own: the session's workers (which reach the fake directly) must
    # not take these turns.
    own_db = urlunsplit(urlsplit(service_env["REDIS_URL"])._replace(path="/12"))
    redis.Redis.from_url(own_db).flushdb()
    env = {
        **service_env,
        "REDIS_URL": own_db,
        "OPENAI_BASE_URL": f"{proxy.url}/v1",
        "AION_PROVIDER_MAX_RETRIES": str(RETRIES),
        "AION_PROVIDER_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
    }
    with api_and_worker(env, tmp_path_factory.mktemp("provider-fault-logs")) as stack:
        yield stack


@pytest.fixture
async def http(provider_stack: Stack, proxy: TcpProxy) -> AsyncIterator[httpx.AsyncClient]:
    proxy.restore()  # a failed test may have left it refusing
    async with owner_client(provider_stack) as client:
        yield client


@pytest.fixture
def channel() -> str:
    return f"provider-fault-{uuid.uuid4().hex[:8]}"


def marker() -> str:
    return f"m{uuid.uuid4().hex[:10]}"


async def assert_next_turn_works(
    http: httpx.AsyncClient, channel: str, before: list[tuple[str, str]], database_url: str
) -> None:
    """The channel is free and the provider answers again; the failed turn left nothing more."""
    _, events = await chat(http, "and now?", channel)
    assert events[-1].type == "done", events[-1]
    assert events[-1].data["full_response"] == "You said: and now?"
    after = await stored_messages(database_url, channel)
    assert after == [*before, ("user", "and now?"), ("assistant", "You said: and now?")]


# --- refused before the stream: retried once, honouring Retry-After ---------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_refusal_once_is_retried_and_the_owner_gets_the_answer(
    http: httpx.AsyncClient, fake_llm: FakeLLM, database_url: str, channel: str, status: int
) -> None:
    tag = marker()
    message = f"{tag} [[fail={status} times=1]]"
    _, events = await chat(http, message, channel)
    assert [e.type for e in events if e.type in ("error", "done")] == ["done"]
    assert events[-1].data["full_response"] == f"You said: {tag}"
    assert model_calls(fake_llm, tag) == 2
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message), ("assistant", f"You said: {tag}")]
    await assert_next_turn_works(http, channel, stored, database_url)


async def test_retry_after_is_honoured(
    http: httpx.AsyncClient, fake_llm: FakeLLM, database_url: str, channel: str
) -> None:
    tag = marker()
    started = time.monotonic()
    _, events = await chat(http, f"{tag} [[fail=429 retry_after=3 times=1]]", channel)
    took = time.monotonic() - started
    assert events[-1].type == "done" and events[-1].data["full_response"] == f"You said: {tag}"
    # the SDK's own backoff is shorter (0.5 s before a first retry): this is the server's 3 s
    assert 3 <= took < 3 + TIMEOUT_SECONDS + 3, took
    assert model_calls(fake_llm, tag) == 2


async def test_an_unreasonable_retry_after_ends_the_turn_at_once(
    http: httpx.AsyncClient, fake_llm: FakeLLM, database_url: str, channel: str
) -> None:
    """An hour's Retry-After is not waited out (the turn would hang for an hour) nor ignored
    (the provider would be hammered): the owner is told at once."""
    tag = marker()
    message = f"{tag} [[fail=429 retry_after=3600 times=1]]"
    started = time.monotonic()
    _, events = await chat(http, message, channel)
    assert time.monotonic() - started < 3
    assert [e.type for e in events] == ["error"]
    assert "HTTP 429" in events[0].data["message"]
    assert model_calls(fake_llm, tag) == 1
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message)]
    await assert_next_turn_works(http, channel, stored, database_url)


@pytest.mark.parametrize("status", [429, 500])
async def test_a_lasting_refusal_is_one_clear_error_after_the_retries(
    http: httpx.AsyncClient, fake_llm: FakeLLM, database_url: str, channel: str, status: int
) -> None:
    tag = marker()
    message = f"{tag} [[fail={status} retry_after=1]]"
    started = time.monotonic()
    _, events = await chat(http, message, channel)
    assert time.monotonic() - started < 1 + 3
    assert [e.type for e in events] == ["error"]
    error = events[0].data
    assert error["code"] == "provider_error"
    assert f"HTTP {status}" in error["message"]
    assert "sk-test" not in events[0].raw
    assert model_calls(fake_llm, tag) == RETRIES + 1
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message)]  # the question, unanswered
    await assert_next_turn_works(http, channel, stored, database_url)


# --- silent: the timeout ends the turn --------------------------------------------------------


async def test_a_provider_that_never_answers_times_out_into_an_error(
    http: httpx.AsyncClient, fake_llm: FakeLLM, database_url: str, channel: str
) -> None:
    tag = marker()
    message = f"{tag} [[hang]]"
    started = time.monotonic()
    _, events = await chat(http, message, channel)
    took = time.monotonic() - started
    assert [e.type for e in events] == ["error"]
    assert events[0].data["code"] == "provider_error"
    assert "timed out" in events[0].data["message"].lower()
    assert (RETRIES + 1) * TIMEOUT_SECONDS <= took < HANG_BOUND, took
    assert model_calls(fake_llm, tag) == RETRIES + 1
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message)]
    await assert_next_turn_works(http, channel, stored, database_url)


# --- broken mid-answer: an error, and only what the owner saw is kept -------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("stall=3", "stopped sending mid-answer (timed out)"),  # three tokens, then silence
        ("drop=3", "the provider failed"),  # the fake closes the stream half-way
        ("garble=3", "malformed stream chunk"),  # a `data:` line that is not JSON
    ],
)
async def test_a_stream_broken_mid_answer_ends_in_an_error_keeping_what_was_shown(
    http: httpx.AsyncClient,
    fake_llm: FakeLLM,
    database_url: str,
    channel: str,
    fault: str,
    says: str,
) -> None:
    tag = marker()
    message = f"{tag} [[tokens=10 {fault}]]"
    started = time.monotonic()
    _, events = await chat(http, message, channel)
    assert time.monotonic() - started < TIMEOUT_SECONDS + 5
    assert events[-1].type == "error", events[-1]
    assert events[-1].data["code"] == "provider_error"
    assert says in events[-1].data["message"].lower()
    shown = tokens_text(events)
    assert shown == counted(3)
    # A stream that had begun is not asked again: the owner would see its start twice.
    assert model_calls(fake_llm, tag) == 1
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message), ("assistant", shown)]
    await assert_next_turn_works(http, channel, stored, database_url)


async def broken_mid_answer(
    http: httpx.AsyncClient, channel: str, fake_llm: FakeLLM, cut: Callable[[], object]
) -> tuple[str, str]:
    """A long answer that `cut` breaks once the owner has seen three tokens: it ends in one
    provider error soon after, the model asked once. The message and what the owner saw."""
    tag = marker()
    message = f"{tag} [[tokens=400 gap=25]]"
    turn = await Turn.open(http, message, channel)
    await turn.read_until(tokens=3)
    cut()
    cut_at = time.monotonic()
    events = await turn.read_to_end()
    assert time.monotonic() - cut_at < 5
    assert turn.last.type == "error", turn.last
    assert turn.last.data["code"] == "provider_error"
    shown = tokens_text(events)
    assert shown and counted(400).startswith(shown) and shown != counted(400)
    assert model_calls(fake_llm, tag) == 1
    return message, shown


async def test_the_network_to_the_provider_reset_mid_answer(
    http: httpx.AsyncClient, proxy: TcpProxy, fake_llm: FakeLLM, database_url: str, channel: str
) -> None:
    def reset() -> None:
        assert proxy.reset() >= 2  # the worker's connection and the hop's own to the fake

    message, shown = await broken_mid_answer(http, channel, fake_llm, reset)
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message), ("assistant", shown)]
    await assert_next_turn_works(http, channel, stored, database_url)


async def test_the_provider_killed_mid_answer_and_away_for_a_while(
    http: httpx.AsyncClient, proxy: TcpProxy, fake_llm: FakeLLM, database_url: str, channel: str
) -> None:
    def kill() -> None:
        proxy.refuse()  # nothing listens any more ...
        proxy.reset()  # ... and what was open dies with the server

    message, shown = await broken_mid_answer(http, channel, fake_llm, kill)

    # While it is away, a turn fails fast and says the provider cannot be reached.
    started = time.monotonic()
    _, events = await chat(http, "anyone there?", channel)
    assert time.monotonic() - started < MAX_BACKOFF_SECONDS + 3
    assert [e.type for e in events] == ["error"]
    assert "could not reach the provider" in events[0].data["message"]

    proxy.restore()
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message), ("assistant", shown), ("user", "anyone there?")]
    await assert_next_turn_works(http, channel, stored, database_url)


# --- the same faults on Anthropic's wire format (its fake, through the real SDK) ---------------


def anthropic_calls(fake_anthropic: FakeAnthropic, tag: str) -> int:
    """Requests Anthropic's fake got whose latest message carries `tag`."""
    return sum(tag in json.dumps(r["body"]["messages"][-1]) for r in fake_anthropic.requests)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("stall", f"stopped sending before the answer finished (no data for {TIMEOUT_SECONDS} s"),
        ("end", "stream ended before the answer finished"),
        ("drop", "the connection to anthropic broke before the answer finished"),
    ],
)
async def test_an_anthropic_stream_broken_mid_answer_says_what_happened(
    http: httpx.AsyncClient,
    fake_anthropic: FakeAnthropic,
    database_url: str,
    channel: str,
    fault: str,
    says: str,
) -> None:
    tag = marker()
    message = f"{tag} and the rest"
    started = time.monotonic()
    _, events = await chat(http, message, channel, model=f"claude-{fault}-after-3")
    assert time.monotonic() - started < TIMEOUT_SECONDS + 5
    assert events[-1].type == "error", events[-1]
    assert events[-1].data["code"] == "provider_error"
    assert says in events[-1].data["message"].lower(), events[-1].data
    shown = tokens_text(events)
    if fault == "drop":
        # The HTTP client gives up what it had received but not yet handed over when the
        # connection breaks (the drop can come with the first events): a part, maybe none.
        assert f"You said: {tag}".startswith(shown), events
    else:
        assert shown == f"You said: {tag}", events
    assert anthropic_calls(fake_anthropic, tag) == 1  # a stream that had begun: not asked again
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", message)] + ([("assistant", shown)] if shown else [])
    await assert_next_turn_works(http, channel, stored, database_url)


async def test_an_anthropic_api_that_never_answers_says_so(
    http: httpx.AsyncClient, fake_anthropic: FakeAnthropic, database_url: str, channel: str
) -> None:
    tag = marker()
    started = time.monotonic()
    _, events = await chat(http, tag, channel, model="claude-hang")
    took = time.monotonic() - started
    assert [e.type for e in events] == ["error"]
    assert events[0].data["code"] == "provider_error"
    said = events[0].data["message"].lower()
    assert f"anthropic sent no answer within {TIMEOUT_SECONDS} s (timed out)" in said, said
    assert (RETRIES + 1) * TIMEOUT_SECONDS <= took < HANG_BOUND, took
    assert anthropic_calls(fake_anthropic, tag) == RETRIES + 1
    stored = await stored_messages(database_url, channel)
    assert stored == [("user", tag)]
    await assert_next_turn_works(http, channel, stored, database_url)
