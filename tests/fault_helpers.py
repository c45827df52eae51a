"""What the fault tests share: a stack of their own and an owner's client for it, a turn's
stream read as its events come, what the fake model was asked, and what PostgreSQL holds for a
channel."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import API_TOKEN
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.sse import SSEEvent, iter_events
from tests.stack import Stack


class Turn:
    """One chat message and its SSE stream, read as the events come."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.job = response.headers["x-aion-job"]
        self._events = iter_events(response)
        self.events: list[SSEEvent] = []

    @classmethod
    async def open(cls, http: httpx.AsyncClient, message: str, channel: str) -> Turn:
        body = {"message": message, "channel": channel}
        response = await http.send(http.build_request("POST", "/api/chat", json=body), stream=True)
        assert response.status_code == 200, await response.aread()
        return cls(response)

    async def read_until(self, tokens: int) -> None:
        """Read until `tokens` token events have arrived."""
        while sum(e.type == "token" for e in self.events) < tokens:
            self.events.append(await anext(self._events))

    async def read_to_end(self) -> list[SSEEvent]:
        """The rest of the stream, up to its terminal event (which must come)."""
        try:
            async for event in self._events:
                self.events.append(event)
                if event.type in ("done", "error"):
                    break
        except httpx.RemoteProtocolError as exc:
            raise AssertionError(f"the stream was cut without a `done` or `error`: {exc}") from exc
        finally:
            await self.response.aclose()
        assert self.events and self.events[-1].type in ("done", "error"), "no terminal event"
        return self.events

    @property
    def last(self) -> SSEEvent:
        return self.events[-1]


def counted(n: int) -> str:
    """What the fake model says for `[[tokens=n]]`."""
    return "".join(f"t{i} " for i in range(n))


def model_calls(fake_llm: FakeLLM, marker: str) -> int:
    """Chat requests the model got for the message carrying `marker` (memory extraction,
    which quotes the message, not counted)."""

    def answers(request: dict[str, Any]) -> bool:
        messages = request.get("messages", [])
        system = " ".join(str(m.get("content")) for m in messages if m.get("role") == "system")
        last = messages[-1] if messages else {}
        return (
            MEMORY_EXTRACTION_MARKER not in system
            and last.get("role") == "user"
            and marker in str(last.get("content"))
        )

    return sum(answers(r) for r in fake_llm.requests)


async def stored_messages(database_url: str, channel: str) -> list[tuple[str, str]]:
    """(role, content) of every message PostgreSQL holds for the channel, in order."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT m.role, m.content FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.channel = %s ORDER BY m.id",
            (channel,),
        )
        return [(str(role), str(content)) for role, content in await cursor.fetchall()]


def assert_in_order_once(events: list[SSEEvent], answer: str) -> None:
    """Every token the client got is a piece of `answer`, in order, none twice."""
    seen = [e.data["text"] for e in events if e.type == "token"]
    words = "".join(seen).split()
    assert words == sorted(set(words), key=lambda w: int(w[1:])), words
    assert set(words) <= set(answer.split())


@contextlib.contextmanager
def api_and_worker(env: dict[str, str], log_dir: Path) -> Iterator[Stack]:
    """An api and a worker on stores of the test's own (the faults are injected there)."""
    stack = Stack(env=env, log_dir=log_dir)
    try:
        stack.start_api()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()


def owner_client(stack: Stack) -> httpx.AsyncClient:
    """The owner's client, patient: answers may wait out a restart."""
    return httpx.AsyncClient(
        base_url=stack.api_url,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=httpx.Timeout(60.0),
    )
