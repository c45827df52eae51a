"""Approvals: a risky call pauses the turn; the owner decides once, by API or by a chat word."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from services.worker.settings import WorkerSettings
from shared.approval_words import ALEXA_CHANNEL, words_decide_on
from tests.conftest import API_TOKEN
from tests.helpers import chat, history
from tests.sse import SSEEvent, collect
from tests.stack import Service, Stack, api_ready, free_port, wait_for
from tests.test_agent import call, of_type


async def pause(client: httpx.AsyncClient, channel: str, calls: str) -> dict[str, Any]:
    """Run a turn that stops for approval; return its approval event."""
    _, events = await chat(client, f"please [[{calls}]]", channel)
    done = events[-1]
    assert done.type == "done" and done.data["approval_pending"] is True, events
    (approval,) = of_type(events, "approval")
    assert done.data["approval_id"] == approval["id"]
    return approval


async def approve(client: httpx.AsyncClient, approval_id: str) -> list[SSEEvent]:
    body = {"approve": True}
    async with client.stream("POST", f"/api/approvals/{approval_id}", json=body) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return await collect(response)


async def follow(client: httpx.AsyncClient, job: str) -> list[SSEEvent]:
    async with client.stream("GET", f"/api/chat/{job}/events") as response:
        assert response.status_code == 200
        return await collect(response)


async def test_risky_call_waits_then_runs_with_the_arguments_shown(
    client: httpx.AsyncClient, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "launch"}))
    assert approval["tool"] == "risky" and approval["args"] == {"text": "launch"}
    assert "risky" in approval["message"] and approval["expires_at"]
    assert [m["role"] for m in await history(client, channel)] == ["user"]

    events = await approve(client, approval["id"])
    (result,) = of_type(events, "tool_result")
    assert result["name"] == "risky" and result["ok"] and result["result"] == "did:launch"
    assert events[-1].type == "done" and not events[-1].data["approval_pending"]
    assert events[-1].data["full_response"] == "Tool results: did:launch"
    shown = await history(client, channel)
    assert [m["content"] for m in shown][1:] == ["Tool results: did:launch"]

    again = await client.post(f"/api/approvals/{approval['id']}", json={"approve": False})
    assert again.status_code == 409 and "already approved" in again.json()["detail"]


async def test_denied_call_is_not_run_and_the_model_is_told(
    client: httpx.AsyncClient, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "delete"}))
    response = await client.post(f"/api/approvals/{approval['id']}", json={"approve": False})
    assert response.status_code == 200 and response.json()["ok"] is True
    events = await follow(client, response.json()["job"])
    (result,) = of_type(events, "tool_result")
    assert result["ok"] is False and "declined" in result["result"]
    assert "declined" in events[-1].data["full_response"]


async def test_safe_call_before_a_risky_one_runs_and_both_results_reach_the_model(
    client: httpx.AsyncClient, channel: str
) -> None:
    calls = f"{call('echo', {'text': 'first'})} {call('risky', {'text': 'second'})}"
    _, events = await chat(client, f"[[{calls}]]", channel)
    assert [r["name"] for r in of_type(events, "tool_result")] == ["echo"]
    (approval,) = of_type(events, "approval")
    events = await approve(client, approval["id"])
    assert events[-1].data["full_response"] == "Tool results: echo:first | did:second"


async def test_a_yes_or_no_word_on_the_channel_decides(
    client: httpx.AsyncClient, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "by word"}))
    _, events = await chat(client, "Yes!", channel)
    assert of_type(events, "tool_result")[0]["result"] == "did:by word"
    late = await client.post(f"/api/approvals/{approval['id']}", json={"approve": True})
    assert late.status_code == 409

    await pause(client, f"{channel}-n", call("risky", {"text": "no thanks"}))
    _, events = await chat(client, "nein", f"{channel}-n")
    assert of_type(events, "tool_result")[0]["ok"] is False
    # With nothing pending, "ok" is an ordinary message.
    _, events = await chat(client, "ok", f"{channel}-n")
    assert events[-1].data["full_response"] == "You said: ok"


async def test_a_word_decides_only_as_the_next_message_on_the_channel(
    client: httpx.AsyncClient, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "asked first"}))
    _, events = await chat(client, "anything on today?", channel)  # something else is said
    assert events[-1].data["full_response"] == "You said: anything on today?"
    _, events = await chat(client, "ok", channel)  # answers that, not the question before
    assert not of_type(events, "tool_result")
    assert events[-1].data["full_response"] == "You said: ok"
    events = await approve(client, approval["id"])  # still pending where it was shown
    assert of_type(events, "tool_result")[0]["result"] == "did:asked first"


async def test_a_word_on_the_alexa_channel_never_decides(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]]
) -> None:
    """Alexa decides in the api, for the approval id its session holds (tests/test_alexa.py);
    a yes/no word on its channel, from any later session or any client, is a message."""
    assert not words_decide_on(ALEXA_CHANNEL) and words_decide_on("voice")
    marker = uuid.uuid4().hex[:8]
    approval = await pause(client, ALEXA_CHANNEL, call("risky", {"text": marker}))
    _, events = await chat(client, "yes", ALEXA_CHANNEL)
    assert not of_type(events, "tool_result")
    assert events[-1].data["full_response"] == "You said: yes"
    cur = await db.execute("SELECT status FROM approvals WHERE id = %s", (approval["id"],))
    assert await cur.fetchone() == ("pending",)
    events = await approve(client, approval["id"])
    assert of_type(events, "tool_result")[0]["result"] == f"did:{marker}"


async def asked_ago(
    db: psycopg.AsyncConnection[tuple[object, ...]], channel: str, seconds: float
) -> None:
    """Move the channel's messages and approvals `seconds` into the past (order kept)."""
    shift = {"secs": seconds, "channel": channel}
    await db.execute(
        """UPDATE approvals SET created_at = created_at - make_interval(secs => %(secs)s)
           WHERE channel = %(channel)s""",
        shift,
    )
    await db.execute(
        """UPDATE messages SET created_at = created_at - make_interval(secs => %(secs)s)
           WHERE conversation_id IN (SELECT id FROM conversations WHERE channel = %(channel)s)""",
        shift,
    )


async def test_a_word_decides_only_soon_after_the_question(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]], channel: str
) -> None:
    window = WorkerSettings.model_fields["aion_approval_word_seconds"].default
    assert window == 120
    late = await pause(client, channel, call("risky", {"text": "late"}))
    await asked_ago(db, channel, window + 1)
    _, events = await chat(client, "yes", channel)
    assert events[-1].data["full_response"] == "You said: yes"
    assert (await client.post(f"/api/approvals/{late['id']}", json={"approve": False})).is_success

    in_time = f"{channel}-in-time"
    await pause(client, in_time, call("risky", {"text": "in time"}))
    await asked_ago(db, in_time, window - 15)
    _, events = await chat(client, "yes", in_time)
    assert of_type(events, "tool_result")[0]["result"] == "did:in time"


async def test_expired_unknown_and_malformed(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]], channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "later"}))
    await db.execute(
        "UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = %s",
        (approval["id"],),
    )
    response = await client.post(f"/api/approvals/{approval['id']}", json={"approve": True})
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    _, events = await chat(client, "yes", channel)  # nothing decidable left: a plain message
    assert events[-1].data["full_response"] == "You said: yes"

    missing = await client.post(f"/api/approvals/{'0' * 32}", json={"approve": True})
    assert missing.status_code == 404
    for body in ({"approve": "yes"}, {"approve": 1}, {}, {"approve": True, "extra": 1}):
        response = await client.post(f"/api/approvals/{'0' * 32}", json=body)
        assert response.status_code == 422, body
    assert (await client.post("/api/approvals/../x", json={"approve": True})).status_code == 404


@pytest.fixture
async def second_api(stack: Stack) -> AsyncIterator[str]:
    """Another api replica on the same PostgreSQL and Redis."""
    port = free_port()
    env = {**stack.env, "AION_PORT": str(port)}
    api = Service("api-b", ["-m", "services.api"], env, stack.log_dir / f"api-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: api_ready(url), "api b", api)
        yield url
    finally:
        api.stop()


async def test_two_replicas_racing_decide_once(
    client: httpx.AsyncClient, second_api: str, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "once"}))
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx.AsyncClient(base_url=second_api, headers=headers, timeout=30) as other:
        path, body = f"/api/approvals/{approval['id']}", {"approve": False}
        responses = await asyncio.gather(
            *(http.post(path, json=body) for http in [client, other] * 4)
        )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    (winner,) = [r for r in responses if r.status_code == 200]
    events = await follow(client, winner.json()["job"])
    assert len(of_type(events, "tool_result")) == 1


async def test_pending_approvals_survive_restarts(
    client: httpx.AsyncClient, stack: Stack, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "after restart"}))
    for worker in stack.live_workers():
        worker.stop()
    assert stack.api is not None
    stack.api.stop()
    stack.start_api()
    stack.start_worker()
    events = await approve(client, approval["id"])
    assert of_type(events, "tool_result")[0]["result"] == "did:after restart"


async def test_calls_sharing_an_id_are_all_refused(client: httpx.AsyncClient, channel: str) -> None:
    """An approval of the call shown must not also run a hidden call with the same id."""
    calls = f"{call('risky', {'text': 'shown'})} {call('risky', {'text': 'hidden'})} same_id"
    _, events = await chat(client, f"[[{calls}]]", channel)
    assert not of_type(events, "approval")
    results = of_type(events, "tool_result")
    assert [(r["name"], r["ok"]) for r in results] == [("risky", False), ("risky", False)]
    assert all("same id" in r["result"] for r in results)
    assert [r["call_id"] for r in results] == [c["call_id"] for c in of_type(events, "tool_call")]
    assert len({r["call_id"] for r in results}) == 2  # ids of ours, told apart again
    done = events[-1]
    assert done.type == "done" and not done.data["approval_pending"]
    assert "did:" not in done.data["full_response"]  # the model was told; nothing ran

    # A safe call in such an answer does not run either.
    mixed = f"{call('echo', {'text': 'a'})} {call('echo', {'text': 'b'})} same_id"
    _, events = await chat(client, f"[[{mixed}]]", channel)
    assert [r["ok"] for r in of_type(events, "tool_result")] == [False, False]


async def test_an_approval_runs_only_the_call_it_showed(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]], channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "shown"}))
    # What the paused turn would run next no longer matches what the owner was shown.
    await db.execute(
        """UPDATE approvals
           SET state = jsonb_set(state, '{pending,0,arguments}', '{"text": "swapped"}')
           WHERE id = %s""",
        (approval["id"],),
    )
    events = await approve(client, approval["id"])
    assert not of_type(events, "tool_result")
    assert events[-1].type == "error"


async def test_a_pending_approval_is_listed_until_it_is_decided(
    client: httpx.AsyncClient, channel: str
) -> None:
    approval = await pause(client, channel, call("risky", {"text": "listed"}))
    listed = await client.get("/api/approvals", params={"channel": channel})
    assert listed.status_code == 200
    [pending] = listed.json()["approvals"]
    assert pending == {
        "id": approval["id"],
        "channel": channel,
        "tool": "risky",
        "args": {"text": "listed"},
        "expires_at": pending["expires_at"],
    }
    assert pending["expires_at"][:16] == approval["expires_at"][:16]
    everywhere = (await client.get("/api/approvals")).json()["approvals"]
    assert approval["id"] in [a["id"] for a in everywhere]
    other = await client.get("/api/approvals", params={"channel": channel + "-other"})
    assert other.json() == {"approvals": []}
    assert (await client.get("/api/approvals", params={"channel": "no spaces"})).status_code == 422

    await client.post(f"/api/approvals/{approval['id']}", json={"approve": False})
    after = await client.get("/api/approvals", params={"channel": channel})
    assert after.json() == {"approvals": []}
