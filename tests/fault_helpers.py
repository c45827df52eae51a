"""What the fault tests share: a stack of their own and an owner's client for it, a turn's
stream read as its events come, what the fake model was asked, what PostgreSQL holds for a
channel, and a TCP hop to a fake provider that can be cut."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

from tests.conftest import API_TOKEN
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.sse import SSEEvent, iter_events
from tests.stack import Stack, free_port

_T = TypeVar("_T")


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

    async def read_next(self) -> SSEEvent:
        event = await anext(self._events)
        self.events.append(event)
        return event

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


class TcpProxy:
    """A TCP hop between the workers and a fake provider that a test can break: `reset()` cuts
    every open connection with a TCP reset (the network dropped, or the server killed, mid-
    stream), `refuse()` stops listening (connections are refused) and `restore()` listens again
    on the same port. It runs its own event loop in a thread, so any fixture can hold one."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self.accepted = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def restore(self) -> None:
        self._call(self._listen())

    def refuse(self) -> None:
        self._call(self._close_server())

    def reset(self) -> int:
        """Reset every open connection; returns how many there were."""
        return self._call(self._reset_all())

    def stop(self) -> None:
        self.refuse()
        self.reset()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _reset_all(self) -> int:
        conns, self._conns = list(self._conns), set()
        for writer in conns:
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        return len(conns)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._conns |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()  # a no-op after a reset

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._conns -= {writer, up_writer}
