"""One MCP server as this worker sees it: a supervisor task keeps one client session open.

Opened lazily (the first turn that needs it, or a change the api waits for), kept across
turns, re-listed when the server says its tools changed, and reopened with backoff when it
fails. Calls come from turns in other tasks; a broken transport only fails this server's calls
(as tool errors) and wakes the supervisor to reconnect. The session lives in the supervisor's
task because the SDK's transports are context managers that must be left where entered.

Both protocol eras: `mode="auto"` probes `server/discover` (2026-07-28) and falls back to the
`initialize` handshake when the server does not know it. A handshake-era server says its tools
changed with `notifications/tools/list_changed` on the session; a 2026 one on a listen stream
kept open beside the session (listen.py). A server that chokes on the probe (no answer, or it
dies) is tried once more at once with the handshake alone, which it then keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError

from services.worker.mcp import listen
from services.worker.mcp.errors import describe, transport_failure
from services.worker.tools.registry import ToolError
from shared.mcp import McpServerSpec

log = logging.getLogger("aion.worker.mcp")

# An opener gives the transport to enter, and what to close after the session (or None).
Opened = tuple[AbstractAsyncContextManager[Any], Callable[[], Awaitable[None]] | None]
Opener = Callable[[McpServerSpec], Awaitable[Opened]]
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
TEARDOWN_SECONDS = 5.0
_LIST_PAGES = 20  # a server that pages for ever cannot keep the supervisor listing


class McpConnection:
    def __init__(
        self,
        spec: McpServerSpec,
        opener: Opener,
        on_change: Callable[[], Awaitable[None]],
        *,
        connect_timeout: float,
    ) -> None:
        self.spec = spec
        self.tools: list[types.Tool] = []  # last listing; kept while reconnecting
        self.error: str | None = None
        self._opener = opener
        self._on_change = on_change
        self._connect_timeout = connect_timeout
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._attempted = asyncio.Event()  # set once the first attempt ended, either way
        self._wake = asyncio.Event()  # a listing changed, or a call found the transport broken
        self._broken: str | None = None
        self._lost = asyncio.Event()  # a call found the transport broken: reconnect
        self._stragglers: set[asyncio.Task[None]] = set()  # old sessions still closing
        self._handshake_only = False  # the server chokes on the server/discover probe
        self._handshaken = False  # the current attempt got past the handshake

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def ensure(self, wait: float | None = None) -> None:
        """Start the supervisor once; wait (bounded) for its first attempt to end."""
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"aion-mcp-{self.spec.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attempted.wait(), wait or self._connect_timeout + 1)

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        client = self._client
        name = self.spec.name
        if client is None:
            raise ToolError(f"The MCP server '{name}' is not connected: {self.error or 'starting'}")
        try:
            return await client.call_tool(tool, arguments)
        except MCPError as exc:
            if transport_failure(exc):
                self._break(exc.error.message)
            message = exc.error.message
            raise ToolError(f"The MCP server '{name}' answered with an error: {message}") from exc
        except Exception as exc:
            self._break(f"{type(exc).__name__}: {exc}")
            raise ToolError(
                f"The MCP server '{name}' failed during the call ({describe(exc)})."
            ) from exc

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(self._task, 10)
        self._task = None
        self._client = None

    def _break(self, why: str) -> None:
        if self._client is not None and not self._lost.is_set():
            self._broken = why
            self._lost.set()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            self._break(describe(message))
        elif isinstance(message, types.ToolListChangedNotification):
            self._wake.set()

    async def _supervise(self) -> None:
        name = self.spec.name
        delay = FIRST_BACKOFF_SECONDS
        while True:
            self._lost.clear()
            session = asyncio.create_task(self._session())
            lost = asyncio.create_task(self._lost.wait())
            try:
                await asyncio.wait({session, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
                if not session.done():
                    session.cancel()
                    # Its end may still be an error (a transport failing on its way out).
                    session.add_done_callback(_reap)
            failure = None if session.cancelled() or not session.done() else session.exception()
            if session.done() and not session.cancelled() and failure is None:
                delay = FIRST_BACKOFF_SECONDS
            elif failure is not None and self._probe_choked(failure):
                why = describe(failure)
                log.info("MCP server %s: the 2026 probe failed (%s); now the handshake", name, why)
                continue
            elif failure is not None:
                self.error = describe(failure)
            else:
                self.error = f"connection lost: {self._broken}"
                # A transport that hangs on its way out must not keep the server away.
                done, _ = await asyncio.wait({session}, timeout=TEARDOWN_SECONDS)
                if not done:
                    self._stragglers.add(session)
                    session.add_done_callback(self._stragglers.discard)
            log.warning("MCP server %s: %s", name, self.error)
            self._client = None
            self._attempted.set()
            await self._changed()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def _probe_choked(self, failure: BaseException) -> bool:
        """Whether an attempt that failed before its session was up is worth repeating at once
        with the handshake alone: the server was reached but took the probe badly (no answer
        in time, or an error such as the connection dropping). Unreachable is no such sign.
        A handshake-only attempt that fails the same way clears the mark again: the server
        may speak only the 2026 protocol."""
        while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
            failure = failure.exceptions[0]
        if self._handshaken or not isinstance(failure, TimeoutError | MCPError):
            return False
        self._handshake_only = not self._handshake_only
        return self._handshake_only

    async def _session(self) -> None:
        self._handshaken = False
        transport, close = await self._opener(self.spec)
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(self._connect_timeout):
                    client = await stack.enter_async_context(
                        Client(
                            transport,
                            mode="legacy" if self._handshake_only else "auto",
                            message_handler=self._on_message,
                            cache=None,
                        )
                    )
                    self._handshaken = True
                    self._wake.clear()
                    await self._list(client)
                self._client = client
                self.error = None
                self._attempted.set()
                log.info(
                    "MCP server %s connected (protocol %s): %d tools",
                    self.spec.name,
                    client.protocol_version,
                    len(self.tools),
                )
                await self._changed()
                if listen.announces_changes(client):
                    # Stopped before the client closes, so it never sees the session's end.
                    stack.push_async_callback(_stop, asyncio.create_task(self._listen(client)))
                while True:
                    await self._wake.wait()
                    self._wake.clear()
                    before = self.tools
                    async with asyncio.timeout(self._connect_timeout):
                        await self._list(client)
                    if self.tools != before:
                        await self._changed()
        finally:
            self._client = None
            if close is not None:
                await close()

    async def _listen(self, client: Client) -> None:
        await listen.follow(
            client,
            self.spec.name,
            relist=self._wake.set,
            broken=self._break,
            ack_timeout=self._connect_timeout,
        )

    async def _list(self, client: Client) -> None:
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(_LIST_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools += page.tools
            cursor = page.next_cursor
            if cursor is None:
                break
        self.tools = tools

    async def _changed(self) -> None:
        try:
            await self._on_change()
        except Exception:
            log.exception("could not report MCP server %s", self.spec.name)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait({task})


def _reap(task: asyncio.Task[None]) -> None:
    """An abandoned session's end, whatever it was, is not worth more than this."""
    if not task.cancelled():
        task.exception()
