"""Operations end to end: several api and worker processes, SIGTERM drains, SIGKILL, metrics.

Every process is real (tests/stack.py); workers and apis are started and signalled here the way
Kubernetes or compose would do it during a rollout.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API_TOKEN
from tests.helpers import chat, eventually, tokens_text
from tests.sse import SSEEvent, collect, iter_events
from tests.stack import Service, Stack

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def counted(n: int) -> str:
    """What the fake LLM says for `[[tokens=n]]`."""
    return "".join(f"t{i} " for i in range(n))


def owner(stack: Stack, job: str) -> str:
    """The worker id that claimed a turn ('' while none has)."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        value = client.hget(f"aion:turn:{{{job}}}:meta", "worker")
    finally:
        client.close()
    return value.decode() if value else ""


def runs_on(stack: Stack, job: str, worker: Service) -> bool:
    return f"-{worker.pid}-" in owner(stack, job)


async def open_turn(
    http: httpx.AsyncClient, message: str, channel: str
) -> tuple[httpx.Response, str, AsyncIterator[SSEEvent]]:
    response = await http.send(
        http.build_request("POST", "/api/chat", json={"message": message, "channel": channel}),
        stream=True,
    )
    assert response.status_code == 200, await response.aread()
    return response, response.headers["x-aion-job"], iter_events(response)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Prometheus exposition text → {(sample name, labels): value}, parsed by the real parser."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(parsed: Samples, name: str, **labels: str) -> float:
    return float(parsed.get((name, frozenset(labels.items())), 0.0))


async def worker_total(workers: list[Service], name: str, **labels: str) -> float:
    total = 0.0
    async with httpx.AsyncClient(timeout=5.0) as http:
        for worker in workers:
            response = await http.get(f"{worker.url}/metrics")
            assert response.status_code == 200
            total += value(samples(response.text), name, **labels)
    return total


@pytest.fixture(scope="module")
def api_b(stack: Stack) -> Service:
    return stack.start_extra_api()


@pytest.fixture
async def client_b(api_b: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_b.url, headers=AUTH, timeout=30.0) as http:
        yield http


async def fresh_workers(stack: Stack, count: int) -> list[Service]:
    """Exactly `count` new workers, so a test knows which one takes a turn."""
    for worker in stack.live_workers():
        worker.stop()
    return [stack.start_worker() for _ in range(count)]


# --- any api replica serves any turn ---------------------------------------------------------


async def test_turn_started_on_api_a_is_resumed_on_api_b(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, channel: str
) -> None:
    response, job, events = await open_turn(client, "[[tokens=30 gap=30]]", channel)
    seen = [await anext(events), await anext(events)]
    await response.aclose()  # the client's connection to api A drops

    headers = {"Last-Event-ID": seen[-1].id or ""}
    async with client_b.stream("GET", f"/api/chat/{job}/events", headers=headers) as resumed:
        assert resumed.status_code == 200
        rest = await collect(resumed)
    everything = seen + rest
    ids = [e.id for e in everything]
    assert len(set(ids)) == len(ids), "an event was delivered twice"
    assert rest[-1].type == "done"
    assert tokens_text(everything) == counted(30) == rest[-1].data["full_response"]


async def test_cancel_sent_to_api_b_stops_a_turn_streamed_by_api_a(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, channel: str
) -> None:
    response, job, events = await open_turn(client, "[[tokens=1000 gap=20]]", channel)
    assert (await anext(events)).type == "token"
    assert (await client_b.post(f"/api/chat/{job}/cancel")).json() == {"ok": True}
    rest = [e async for e in events]
    await response.aclose()
    assert rest[-1].type == "done" and rest[-1].data["cancelled"] is True


# --- workers: SIGTERM drains, SIGKILL is lost ------------------------------------------------


async def test_sigterm_worker_finishes_its_turn_and_hands_back_waiting_ones(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    victim, other = await fresh_workers(stack, 2)
    other.pause()  # so the victim takes both turns
    first, first_job, first_events = await open_turn(client, "[[tokens=100 gap=50]]", channel)
    assert (await anext(first_events)).type == "token"
    # Queued behind the first turn on the same channel: the victim takes it and waits.
    second, second_job, second_events = await open_turn(client, "after", channel)

    async def second_claimed_by_victim() -> bool:
        return runs_on(stack, second_job, victim)

    await eventually(second_claimed_by_victim, "the victim to take the second turn", 15)
    other.resume()
    victim.terminate()

    async with httpx.AsyncClient(timeout=5.0) as probe:

        async def draining() -> bool:
            return (await probe.get(f"{victim.url}/readyz")).status_code == 503

        await eventually(draining, "the victim's /readyz to say draining", 15)
        assert (await probe.get(f"{victim.url}/readyz")).json() == {"status": "draining"}

    # A new turn is not taken by the draining worker.
    _, third = await chat(client, "somewhere else", f"{channel}-x")
    assert third[-1].data["full_response"] == "You said: somewhere else"

    rest = [e async for e in first_events]
    await first.aclose()
    assert rest[-1].type == "done", rest[-1]
    assert rest[-1].data["full_response"] == counted(100)
    assert runs_on(stack, first_job, victim)

    # The waiting turn went to the other worker, still after the first one.
    after = [e async for e in second_events]
    await second.aclose()
    assert after[-1].type == "done", after[-1]
    assert after[-1].data["full_response"] == "You said: after"
    assert runs_on(stack, second_job, other)

    assert victim.wait(15) == 0, victim.log()[-3000:]
    assert "interrupted" not in victim.log()


async def test_sigkill_mid_turn_gives_worker_lost_on_every_api(
    stack: Stack, client: httpx.AsyncClient, client_b: httpx.AsyncClient, channel: str
) -> None:
    await fresh_workers(stack, 2)  # one survives the kill
    response, job, events = await open_turn(client, "[[tokens=1000 gap=50]]", channel)
    await anext(events)
    doomed = next(w for w in stack.live_workers() if runs_on(stack, job, w))
    doomed.kill()
    killed_at = time.monotonic()
    async with client_b.stream("GET", f"/api/chat/{job}/events") as on_b:
        from_b = await collect(on_b)
    rest = [e async for e in events]
    await response.aclose()
    assert time.monotonic() - killed_at < 10
    for stream in (from_b, rest):
        assert stream[-1].type == "error"
        assert stream[-1].data["code"] == "worker_lost"


# --- the api: SIGTERM drains ------------------------------------------------------------------


async def test_draining_api_refuses_new_chats_and_finishes_open_streams(
    stack: Stack, ensure_worker: Stack, channel: str
) -> None:
    api = stack.start_extra_api()
    async with httpx.AsyncClient(base_url=api.url, headers=AUTH, timeout=30.0) as http:
        response, _, events = await open_turn(http, "[[tokens=40 gap=50]]", channel)
        assert (await anext(events)).type == "token"
        api.terminate()

        async def draining() -> bool:
            return (await http.get("/readyz")).status_code == 503

        await eventually(draining, "/readyz to say draining", 15)
        assert (await http.get("/readyz")).json() == {"status": "draining"}
        refused = await http.post("/api/chat", json={"message": "hi", "channel": channel})
        assert refused.status_code == 503
        assert refused.json()["error"] == "ServiceUnavailable"
        assert "shutting down" in refused.json()["detail"]
        assert (await http.get("/api/status")).status_code == 200  # the rest still answers

        rest = [e async for e in events]
        await response.aclose()
    assert rest[-1].type == "done"
    assert rest[-1].data["full_response"] == counted(40)
    api.wait(15)  # and then it exits by itself


async def test_api_drain_is_bounded_and_the_turn_resumes_elsewhere(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    api = stack.start_extra_api({"AION_API_DRAIN_SECONDS": "1"})
    async with httpx.AsyncClient(base_url=api.url, headers=AUTH, timeout=30.0) as http:
        response, job, events = await open_turn(http, "[[tokens=120 gap=50]]", channel)
        seen = [await anext(events)]
        api.terminate()
        stopped_at = time.monotonic()
        with contextlib.suppress(httpx.RemoteProtocolError):  # cut when the drain period ends
            seen += [e async for e in events]
        await response.aclose()
    assert time.monotonic() - stopped_at < 5
    assert seen[-1].type == "token", "the turn (6 s) cannot have ended within the drain"
    api.wait(15)

    headers = {"Last-Event-ID": seen[-1].id or ""}
    async with client.stream("GET", f"/api/chat/{job}/events", headers=headers) as resumed:
        rest = await collect(resumed)
    assert rest[-1].type == "done"
    assert tokens_text(seen + rest) == counted(120)


# --- probes and metrics -----------------------------------------------------------------------


async def test_metrics_need_the_token_and_show_the_turn_metrics(
    stack: Stack,
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    fresh_settings: None,
    channel: str,
) -> None:
    assert (await anonymous.get("/metrics")).status_code == 401
    # Only the turns' own provider calls: no memory extraction call after them.
    assert (await client.post("/api/config/settings", json={"memory_auto": False})).is_success
    workers = stack.live_workers()
    done_before = await worker_total(workers, "aion_turns_finished_total", outcome="done")
    started_before = await worker_total(workers, "aion_turns_started_total")
    ttft_before = await worker_total(workers, "aion_turn_first_token_seconds_count")
    calls_before = await worker_total(
        workers, "aion_provider_latency_seconds_count", provider="openai"
    )
    errors_before = await worker_total(workers, "aion_provider_errors_total", provider="openai")
    failed_before = await worker_total(workers, "aion_turns_failed_total", code="provider_error")

    headers, _ = await chat(client, "count me", channel)
    async with client.stream("GET", f"/api/chat/{headers['x-aion-job']}/events") as replay:
        await collect(replay)
    await chat(client, "[[fail=500]]", channel)

    assert await worker_total(workers, "aion_turns_started_total") == started_before + 2
    assert (
        await worker_total(workers, "aion_turns_finished_total", outcome="done") == done_before + 1
    )
    assert (
        await worker_total(workers, "aion_turns_failed_total", code="provider_error")
        == failed_before + 1
    )
    assert await worker_total(workers, "aion_turn_first_token_seconds_count") == ttft_before + 1
    assert (
        await worker_total(workers, "aion_provider_latency_seconds_count", provider="openai")
        == calls_before + 1
    )
    assert (
        await worker_total(workers, "aion_provider_errors_total", provider="openai")
        == errors_before + 1
    )

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    parsed = samples(response.text)
    chats = value(
        parsed, "aion_http_requests_total", route="/api/chat", method="POST", status="200"
    )
    assert chats >= 2
    # route templates, never raw paths with ids in them
    routes = {dict(labels)["route"] for _, labels in parsed if "route" in dict(labels)}
    assert "/api/chat/{job}/events" in routes
    assert not any(re.search(r"[0-9a-f]{32}", route) for route in routes)
    assert ("aion_queue_depth", frozenset()) in parsed
    assert value(parsed, "aion_workers_live") >= 1
    assert ("aion_sse_streams_open", frozenset()) in parsed
    assert API_TOKEN not in response.text


async def test_worker_probes(stack: Stack, ensure_worker: Stack) -> None:
    worker = stack.live_workers()[0]
    async with httpx.AsyncClient(base_url=worker.url, timeout=5.0) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ok"}
        assert "aion_turns_started_total" in (await http.get("/metrics")).text


@pytest.mark.parametrize("audio_store", ["present", "gone"])
def test_tts_probes_and_metrics(stack: Stack, tmp_path, audio_store: str) -> None:
    from tests.stack import free_port, wait_for

    port = free_port()
    audio = tmp_path / "audio"  # tts makes it at start; "gone": removed afterwards
    tts = Service(
        "tts",
        ["-m", "services.tts"],
        {**stack.env, "AION_TTS_PORT": str(port), "AION_AUDIO_DIR": str(audio)},
        tmp_path / "tts.log",
        port=port,
    ).start()
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"{tts.url}/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, "tts", tts)
        if audio_store == "gone":
            audio.rmdir()
        ready = httpx.get(f"{tts.url}/readyz", timeout=5.0)
        assert ready.status_code == (200 if audio_store == "present" else 503)
        assert "aion_tts_synthesis_seconds" in httpx.get(f"{tts.url}/metrics").text
    finally:
        tts.stop()
