"""A stdio MCP server in the sandbox service: the SDK's message streams over its WebSocket.

Mirrors the SDK's own stdio_client (mcp/client/stdio.py): the session reads `SessionMessage`s
(or the exception a bad line gave) and writes `SessionMessage`s. Each is one message of the
sandbox's program socket (services/worker/sandbox/remote.py), which the sandbox writes to the
server's stdin as a line; each line of the server's stdout comes back as one. Leaving the
context closes the socket and the sandbox kills the server's process group; the server ending
on its own reaches the session as an error saying how (its exit code), so the connection's
supervisor reconnects and shows why.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import mcp_types as types
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

from services.worker.sandbox.remote import ProgramChannel, RemoteSandbox
from shared.sandbox import ProgramStart

log = logging.getLogger("aion.worker.mcp")

_CLOSED = (anyio.ClosedResourceError, anyio.BrokenResourceError)


@asynccontextmanager
async def sandbox_stdio_client(
    sandbox: RemoteSandbox, start: ProgramStart
) -> AsyncIterator[TransportStreams]:
    """Start the server in the sandbox (SandboxError when it will not) and connect to it."""
    async with sandbox.open_program(start) as channel:
        read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)

        async def from_server() -> None:
            async with read_writer:
                with contextlib.suppress(*_CLOSED):
                    while (line := await channel.receive()) is not None:
                        if line.strip():
                            await read_writer.send(_parse(line))
                    ended = f"the MCP server ended in the sandbox: {channel.ended}"
                    await read_writer.send(ConnectionError(ended))

        async def to_server(channel: ProgramChannel) -> None:
            try:
                async with write_reader:
                    async for message in write_reader:
                        line = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                        await channel.send(line)
            except (*_CLOSED, ConnectionError):
                # The session must see the connection end, not wait for an answer for ever.
                await read_writer.aclose()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(from_server)
            tasks.start_soon(to_server, channel)
            try:
                yield read_stream, write_stream
            finally:
                tasks.cancel_scope.cancel()
                for stream in (read_stream, write_stream):
                    await stream.aclose()


def _parse(line: str) -> SessionMessage | Exception:
    """One line of the server's stdout; what does not parse goes to the session as an error."""
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        log.warning("an MCP server in the sandbox wrote a line that is not JSON-RPC")
        return exc
