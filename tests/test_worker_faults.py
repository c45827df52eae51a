"""A worker killed (SIGKILL) or stopped (SIGTERM) while a turn runs a tool, on the session's real
stack. Each test says what the owner saw, what PostgreSQL holds after (messages, the approval),
and that the next turn on the channel works on a surviving worker."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from tests.fault_helpers import Turn, stored_messages
from tests.helpers import chat
from tests.sse import SSEEvent, iter_events
from tests.stack import Service, Stack
from tests.test_agent import call
from tests.test_approvals import pause
from tests.test_operations import runs_on

LEASE_BOUND = 10  # a dead worker's turn is declared lost within this (the lease, and slack)
DRAIN_SECONDS = 3


async def read_until_type(turn: Turn, kind: str) -> SSEEvent:
    """Read `turn` until an event of `kind` (which must come before the end)."""
    while not turn.events or turn.last.type != kind:
        await turn.read_next()
    return turn.last


async def assert_next_turn_works(client: httpx.AsyncClient, channel: str) -> None:
    _, events = await chat(client, "still there?", channel)
    assert events[-1].type == "done", events[-1]
    assert events[-1].data["full_response"] == "You said: still there?"


def owner_of(stack: Stack, job: str) -> Service:
    return next(w for w in stack.live_workers() if runs_on(stack, job, w))


async def approval_status(database_url: str, approval_id: str) -> str:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT status FROM approvals WHERE id = %s", (approval_id,))
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


async def test_sigkill_mid_tool_ends_the_turn_with_worker_lost(
    stack: Stack, client: httpx.AsyncClient, database_url: str, channel: str
) -> None:
    stack.start_worker()  # the survivor
    message = f"nap ten seconds [[{call('doze', {'ms': 10_000})}]]"
    turn = await Turn.open(client, message, channel)
    tool_call = await read_until_type(turn, "tool_call")
    assert tool_call.data["name"] == "doze"
    owner_of(stack, turn.job).kill()
    killed_at = time.monotonic()
    await turn.read_to_end()
    assert time.monotonic() - killed_at < LEASE_BOUND
    assert turn.last.type == "error" and turn.last.data["code"] == "worker_lost"
    assert [e.type for e in turn.events].count("tool_result") == 0  # it never finished
    # The question is kept; no half tool round (a call without its result) is stored.
    assert await stored_messages(database_url, channel) == [("user", message)]
    await assert_next_turn_works(client, channel)


async def test_sigkill_mid_tool_after_an_approval_leaves_it_decided(
    stack: Stack, client: httpx.AsyncClient, database_url: str, channel: str
) -> None:
    """The approved call ran, the worker died in the call after it: the approval is not left
    pending (it cannot be decided again), the owner gets `worker_lost`, the channel goes on."""
    stack.start_worker()
    calls = f"{call('risky', {'text': 'go'})} {call('doze', {'ms': 10_000})}"
    approval = await pause(client, channel, calls)
    assert await approval_status(database_url, approval["id"]) == "pending"

    request = client.build_request(
        "POST", f"/api/approvals/{approval['id']}", json={"approve": True}
    )
    turn = Turn(await client.send(request, stream=True))
    result = await read_until_type(turn, "tool_result")
    assert result.data["name"] == "risky" and result.data["result"] == "did:go"
    assert (await read_until_type(turn, "tool_call")).data["name"] == "doze"
    owner_of(stack, turn.job).kill()
    await turn.read_to_end()
    assert turn.last.type == "error" and turn.last.data["code"] == "worker_lost"

    assert await approval_status(database_url, approval["id"]) == "approved"
    again = await client.post(f"/api/approvals/{approval['id']}", json={"approve": True})
    assert again.status_code == 409, again.text
    assert await stored_messages(database_url, channel) == [("user", f"please [[{calls}]]")]
    await assert_next_turn_works(client, channel)


@pytest.mark.parametrize("nap_ms", [500, 10_000])
async def test_sigterm_mid_tool_finishes_within_the_drain_or_says_interrupted(
    stack: Stack, client: httpx.AsyncClient, database_url: str, channel: str, nap_ms: int
) -> None:
    """SIGTERM waits for the running turn up to AION_WORKER_DRAIN_SECONDS: a tool that ends
    within it ends the turn as usual; one that does not is stopped with `interrupted`, and the
    worker exits cleanly either way."""
    for worker in stack.live_workers():
        worker.stop()
    victim = stack.start_worker({"AION_WORKER_DRAIN_SECONDS": str(DRAIN_SECONDS)})
    message = f"nap [[{call('doze', {'ms': nap_ms})}]]"
    turn = await Turn.open(client, message, channel)
    await read_until_type(turn, "tool_call")
    victim.terminate()
    stopped_at = time.monotonic()
    await turn.read_to_end()
    took = time.monotonic() - stopped_at
    assert victim.wait(DRAIN_SECONDS + 10) == 0, victim.log()[-3000:]
    stack.start_worker()  # the next turn's
    if nap_ms < DRAIN_SECONDS * 1000:
        assert turn.last.type == "done", turn.last
        assert [e.data["name"] for e in turn.events if e.type == "tool_result"] == ["doze"]
        stored = await stored_messages(database_url, channel)
        assert stored[0] == ("user", message) and stored[-1][0] == "assistant"
    else:
        assert turn.last.type == "error", turn.last
        assert turn.last.data["code"] == "interrupted"
        assert DRAIN_SECONDS - 0.5 <= took < DRAIN_SECONDS + 5, took
        assert await stored_messages(database_url, channel) == [("user", message)]
    await assert_next_turn_works(client, channel)


async def test_a_queued_turn_survives_its_worker_being_killed_before_it_starts(
    stack: Stack, client: httpx.AsyncClient, channel: str
) -> None:
    """The turn waiting behind a tool on the same channel is not lost with the worker."""
    stack.start_worker()
    first = await Turn.open(client, f"[[{call('doze', {'ms': 10_000})}]]", channel)
    await read_until_type(first, "tool_call")
    second = await client.send(
        client.build_request("POST", "/api/chat", json={"message": "after", "channel": channel}),
        stream=True,
    )
    owner_of(stack, first.job).kill()
    await first.read_to_end()
    assert first.last.data["code"] == "worker_lost"
    rest = [e async for e in iter_events(second)]
    await second.aclose()
    assert rest[-1].type == "done" and rest[-1].data["full_response"] == "You said: after"
