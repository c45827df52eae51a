"""The fake LLM, driven over real HTTP through the real `openai` SDK.

Self-contained (own module-scoped server fixture) so it does not depend on conftest.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from tests.fakellm import FakeLLM, parse_directives
from tests.fakellm.script import DirectiveError, split_words

MODEL = "fake-model"
AUTH = {"Authorization": "Bearer k"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def client(fake: FakeLLM) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=10) as c:
        yield c


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def stream_chunks(client: openai.OpenAI, text: str, **kw: Any) -> list[ChatCompletionChunk]:
    return list(client.chat.completions.create(model=MODEL, messages=user(text), stream=True, **kw))


def content_of(chunks: list[ChatCompletionChunk]) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


def t_tokens(n: int) -> str:
    return "".join(f"t{i} " for i in range(n))


# --- directive parsing (pure) -------------------------------------------------------------


def test_parse_directives_combined_groups_and_cleaned_text() -> None:
    d, text = parse_directives("  hi [[tokens=50 gap=20]] there [[first=5]] [[echo_history]] ")
    assert (d.tokens, d.gap_ms, d.first_ms, d.echo_history) == (50, 20, 5, True)
    assert (d.fail, d.drop) == (None, None)
    assert text == "hi  there"


@pytest.mark.parametrize("bad", ["[[tokens=x]]", "[[token=5]]", "[[fail=200]]", "[[gap]]"])
def test_parse_directives_rejects_bad_input(bad: str) -> None:
    with pytest.raises(DirectiveError):
        parse_directives(bad)


@pytest.mark.parametrize("text", ["You said: a  b\tc ", "x", "", "  lead", "one\ntwo"])
def test_split_words_round_trips(text: str) -> None:
    assert "".join(split_words(text)) == text


# --- streaming ------------------------------------------------------------------------------


def test_stream_default_reply_is_word_tokens(client: openai.OpenAI) -> None:
    chunks = stream_chunks(client, "hello [[gap=0]] big world ")
    first, *_, last = chunks
    assert first.choices[0].delta.role == "assistant"
    assert content_of(chunks) == ["You ", "said: ", "hello  ", "big ", "world"]
    assert "".join(content_of(chunks)) == "You said: hello  big world"
    assert last.choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)
    assert {c.id for c in chunks} == {first.id}
    assert first.id.startswith("chatcmpl-")
    assert {c.model for c in chunks} == {MODEL}
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert abs(first.created - time.time()) < 60


def test_stream_tokens_with_usage_chunk(client: openai.OpenAI) -> None:
    chunks = stream_chunks(
        client, "count for me [[tokens=50]]", stream_options={"include_usage": True}
    )
    assert content_of(chunks) == [f"t{i} " for i in range(50)]
    assert "".join(content_of(chunks)) == t_tokens(50)
    assert chunks[-2].choices[0].finish_reason == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.completion_tokens == 50
    assert usage_chunk.usage.prompt_tokens == 4
    assert usage_chunk.usage.total_tokens == 54


def test_stream_content_parts_use_text_parts(client: openai.OpenAI) -> None:
    parts: list[Any] = [
        {"type": "text", "text": "look at"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "this [[tokens=2]]"},
    ]
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": parts}], stream=True
        )
    )
    assert "".join(content_of(chunks)) == "t0 t1 "


def test_max_tokens_truncates_with_length_finish(client: openai.OpenAI) -> None:
    chunks = stream_chunks(client, "[[tokens=10]]", max_completion_tokens=3)
    assert "".join(content_of(chunks)) == t_tokens(3)
    assert chunks[-1].choices[0].finish_reason == "length"


async def test_async_concurrent_streams(fake: FakeLLM) -> None:
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as aclient:

        async def one(i: int) -> str:
            stream = await aclient.chat.completions.create(
                model=MODEL, messages=user(f"n{i} [[tokens={i}]]"), stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        replies = await asyncio.gather(*(one(i) for i in range(40)))
    assert replies == [t_tokens(i) for i in range(40)]


# --- non-streaming --------------------------------------------------------------------------


def test_non_stream_completion(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="fake-model-2",
        messages=[{"role": "system", "content": "be brief"}, *user("hi there")],
        max_tokens=100,
        temperature=0.2,
        extra_body={"some_unknown_field": {"x": 1}},
    )
    assert completion.object == "chat.completion"
    assert completion.model == "fake-model-2"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "You said: hi there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 4)
    assert completion.usage.total_tokens == 8


def test_echo_history_reflects_messages(client: openai.OpenAI) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "You are AION"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "You said: hi"},
        {"role": "user", "content": [{"type": "text", "text": "again [[echo_history]]"}]},
    ]
    expected = (
        "system:You are AION | user:hi | assistant:You said: hi | user:again [[echo_history]]"
    )
    completion = client.chat.completions.create(model=MODEL, messages=messages)
    assert completion.choices[0].message.content == expected
    chunks = list(client.chat.completions.create(model=MODEL, messages=messages, stream=True))
    assert "".join(content_of(chunks)) == expected


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (500, openai.InternalServerError),
        (429, openai.RateLimitError),
        (400, openai.BadRequestError),
        (503, openai.InternalServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_fail_directive_maps_to_sdk_error(
    client: openai.OpenAI, status: int, exc: type[openai.APIStatusError], stream: bool
) -> None:
    with pytest.raises(exc) as info:
        client.chat.completions.create(
            model=MODEL, messages=user(f"boom [[fail={status}]]"), stream=stream
        )
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict)
    assert set(info.value.body) == {"message", "type", "param", "code"}


def test_bad_directive_is_a_400_not_silently_ignored(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="toknes=3"):
        client.chat.completions.create(model=MODEL, messages=user("[[toknes=3]]"))


def test_drop_raises_connection_error_after_k_tokens(client: openai.OpenAI) -> None:
    got: list[str] = []
    stream = client.chat.completions.create(
        model=MODEL, messages=user("[[tokens=10 drop=3]]"), stream=True
    )
    with pytest.raises(openai.APIConnectionError) as info:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert got == ["t0 ", "t1 ", "t2 "]
    assert "incomplete chunked read" in repr(info.value.__cause__)


async def test_drop_async(fake: FakeLLM) -> None:
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as aclient:
        stream = await aclient.chat.completions.create(
            model=MODEL, messages=user("[[tokens=5]] [[drop=2]]"), stream=True
        )
        got: list[str] = []
        with pytest.raises(openai.APIConnectionError):
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    got.append(chunk.choices[0].delta.content)
    assert got == ["t0 ", "t1 "]


def test_times_fails_only_the_first_requests_and_sends_retry_after(
    client: openai.OpenAI,
) -> None:
    message = user(f"again [[fail=429 retry_after=7 times=2]] {time.monotonic_ns()}")
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model=MODEL, messages=message)
        assert info.value.response.headers["retry-after"] == "7"
    reply = client.chat.completions.create(model=MODEL, messages=message)
    assert reply.choices[0].message.content is not None
    assert reply.choices[0].message.content.startswith("You said: again")


def test_retry_after_and_times_need_fail() -> None:
    for bad in ("[[retry_after=1]]", "[[times=2]]"):
        with pytest.raises(DirectiveError, match="only goes with fail"):
            parse_directives(bad)


def test_hang_sends_nothing_until_the_client_gives_up(fake: FakeLLM) -> None:
    body = {"model": MODEL, "messages": user("[[hang]]"), "stream": True}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH, timeout=0.5)
    assert time.monotonic() - started < 5


def test_stall_streams_k_tokens_then_goes_silent(fake: FakeLLM) -> None:
    body = {"model": MODEL, "messages": user("[[tokens=10 stall=2]]"), "stream": True}
    lines: list[str] = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST", f"{fake.base_url}/chat/completions", json=body, headers=AUTH, timeout=0.5
        ) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    assert sum('"content":"t' in line for line in lines) == 2


def test_garble_sends_one_line_that_is_not_json(fake: FakeLLM) -> None:
    body = {"model": MODEL, "messages": user("[[tokens=4 garble=2]]"), "stream": True}
    with httpx.stream(
        "POST", f"{fake.base_url}/chat/completions", json=body, headers=AUTH, timeout=5
    ) as response:
        data = [line[5:].strip() for line in response.iter_lines() if line.startswith("data:")]
    broken = [i for i, payload in enumerate(data) if payload != "[DONE]" and not _is_json(payload)]
    assert len(broken) == 1
    # after the role chunk and two tokens; the rest of the answer still follows
    assert broken == [3]
    assert sum('"content":"t' in payload for payload in data) == 4


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_missing_or_empty_key_is_401(fake: FakeLLM) -> None:
    body = {"model": MODEL, "messages": user("hi")}
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        response = httpx.post(f"{fake.base_url}/chat/completions", json=body, headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
    assert httpx.get(f"{fake.base_url}/models").status_code == 401


def test_unknown_route_is_404_json(fake: FakeLLM) -> None:
    response = httpx.get(f"{fake.base_url}/nope", headers={"Authorization": "Bearer k"})
    assert response.status_code == 404
    assert "Invalid URL" in response.json()["error"]["message"]


# --- timing ---------------------------------------------------------------------------------


def test_gap_and_first_delays_are_respected(client: openai.OpenAI) -> None:
    start = time.perf_counter()
    stream = client.chat.completions.create(
        model=MODEL, messages=user("[[tokens=5 gap=60 first=150]]"), stream=True
    )
    first_content_at = None
    for chunk in stream:
        if first_content_at is None and chunk.choices and chunk.choices[0].delta.content:
            first_content_at = time.perf_counter() - start
    total = time.perf_counter() - start
    assert first_content_at is not None and first_content_at >= 0.14
    assert total >= 0.15 + 4 * 0.06 - 0.02


def test_no_delay_by_default(client: openai.OpenAI) -> None:
    start = time.perf_counter()
    stream_chunks(client, "[[tokens=200]]")
    assert time.perf_counter() - start < 2.0


# --- models and recording -------------------------------------------------------------------


def test_models_list(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["fake-model", "fake-model-2"]


def test_requests_are_recorded_in_order_and_clearable(fake: FakeLLM, client: openai.OpenAI) -> None:
    fake.clear()
    client.chat.completions.create(model=MODEL, messages=user("first"), temperature=0.5)
    stream_chunks(client, "second", stream_options={"include_usage": True})
    recorded = fake.requests
    assert [r["messages"][-1]["content"] for r in recorded] == ["first", "second"]
    assert recorded[0]["temperature"] == 0.5
    assert recorded[1]["stream"] is True
    assert httpx.get(f"{fake.url}/_requests").json() == recorded
    assert httpx.delete(f"{fake.url}/_requests").status_code == 200
    assert fake.requests == []
    assert httpx.get(f"{fake.url}/_requests").json() == []


def test_start_stop_frees_the_port() -> None:
    server = FakeLLM().start()
    url = server.base_url
    assert httpx.get(f"{url}/models", headers={"Authorization": "Bearer k"}).status_code == 200
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", headers={"Authorization": "Bearer k"}, timeout=2)


def test_client_disconnect_ends_a_slow_stream() -> None:
    """A stream of 1000 x 10 ms must stop when the client leaves (else stop() waits ~2 s)."""
    server = FakeLLM().start()
    try:
        with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as c:
            stream = c.chat.completions.create(
                model=MODEL, messages=user("[[tokens=1000 gap=10]]"), stream=True
            )
            chunks = iter(stream)
            assert next(chunks).choices[0].delta.role == "assistant"
            assert next(chunks).choices[0].delta.content == "t0 "
            stream.close()
    finally:
        start = time.perf_counter()
        server.stop()
    assert time.perf_counter() - start < 1.5


# --- tool calls -----------------------------------------------------------------------------


def test_streamed_tool_calls_arrive_whole_through_the_sdk(client: openai.OpenAI) -> None:
    text = "do it [[call=clock call=lookup:%7B%22q%22:%22a%20b%22%7D]]"
    chunks = stream_chunks(client, text)
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or ():
                entry = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                entry["id"] += tc.id or ""
                entry["name"] += (tc.function and tc.function.name) or ""
                entry["args"] += (tc.function and tc.function.arguments) or ""
    assert [c["name"] for c in calls.values()] == ["clock", "lookup"]
    assert calls[1]["args"] == '{"q":"a b"}' and calls[0]["args"] == "{}"
    assert calls[0]["id"] != calls[1]["id"]
    assert chunks[-1].choices == [] or chunks[-1].choices[0].finish_reason == "tool_calls"
    assert content_of(chunks) == []


def test_tool_rounds_then_results_are_echoed(client: openai.OpenAI) -> None:
    messages: list[Any] = user("[[call=clock rounds=2]]")
    for round_no in range(2):
        reply = client.chat.completions.create(model=MODEL, messages=messages)
        message = reply.choices[0].message
        assert reply.choices[0].finish_reason == "tool_calls"
        assert message.tool_calls
        first = message.tool_calls[0]
        assert first.type == "function" and first.function.name == "clock"
        call_id = first.id
        messages.append(message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call_id, "content": f"noon{round_no}"})
    final = client.chat.completions.create(model=MODEL, messages=messages)
    assert final.choices[0].message.content == "Tool results: noon0 | noon1"
    assert final.choices[0].finish_reason == "stop"


def test_same_id_gives_every_call_of_the_answer_one_id(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=user("[[call=clock call=lookup same_id]]")
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls if c.type == "function"] == ["clock", "lookup"]
    assert calls[0].id == calls[1].id


def test_obey_tools_asks_for_the_calls_planted_in_tool_results(client: openai.OpenAI) -> None:
    messages: list[Any] = user("[[call=read obey_tools]]")
    first = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message
    assert first.tool_calls
    messages.append(first.model_dump(exclude_none=True))
    page = "Nice page. [[call=send:%7B%22d%22:1%7D call=keep]] [[tokens=3]]"
    messages.append({"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": page})
    second = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message
    planted = [(c.function.name, c.function.arguments) for c in second.tool_calls or []
               if c.type == "function"]  # fmt: skip
    assert planted == [("send", '{"d":1}'), ("keep", "{}")]
    messages.append(second.model_dump(exclude_none=True))
    for call in second.tool_calls or []:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "done"})
    final = client.chat.completions.create(model=MODEL, messages=messages)
    assert final.choices[0].finish_reason == "stop"  # nothing planted in the last results
