"""How a worker reaches an MCP server: streamable HTTP, or a stdio command in the sandbox.

A stdio server is a program the owner named, so it runs like the shell tool's commands, in the
worker's sandbox, with an environment of the basics plus its own `env` (never the worker's,
which holds AION's secrets):
- bubblewrap: started by the worker under bwrap, as another uid, with no network, only the
  workspace writable, and the `mounts` read-only (where its program lives);
- the sandbox service: started by the service (its container, its uid, its network) and
  bridged over a WebSocket a line per message (remote_stdio.py); closing the session kills it.
With no sandbox at all, stdio is refused: a server is never started in the worker itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
from mcp.client._transport import Transport
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from services.worker.mcp.remote_stdio import sandbox_stdio_client
from services.worker.sandbox import Sandbox
from services.worker.sandbox.bubblewrap import BubblewrapSandbox, program_env
from services.worker.sandbox.remote import RemoteSandbox
from shared.mcp import HttpServer, StdioServer
from shared.sandbox import ProgramStart

STDIO_NEEDS_A_SANDBOX = (
    "stdio MCP servers run only in a sandbox, and this worker has none: run the `sandbox` "
    "service (AION_SANDBOX_URL) or install bubblewrap, or run the server as a container of its "
    "own and add it with transport 'http'"
)


class Refused(Exception):
    """This worker will not start the server (the reason is its status error)."""


def http_transport(server: HttpServer, timeout: float) -> tuple[Transport, httpx2.AsyncClient]:
    """The transport and the HTTP client it uses (closed by the caller after the session)."""
    client = httpx2.AsyncClient(
        headers=server.headers,
        # The owner's server, maybe on the LAN: not through a proxy from the environment.
        trust_env=False,
        timeout=httpx2.Timeout(timeout, read=max(timeout, server.timeout_seconds) + 5),
    )
    return streamable_http_client(server.url, http_client=client), client


async def stdio_transport(server: StdioServer, sandbox: Sandbox, mounts: list[Path]) -> Any:
    if isinstance(sandbox, RemoteSandbox):
        start = ProgramStart(command=server.command, args=server.args, env=server.env)
        return sandbox_stdio_client(sandbox, start)
    if not isinstance(sandbox, BubblewrapSandbox):
        raise Refused(STDIO_NEEDS_A_SANDBOX)
    workspace = await asyncio.to_thread(sandbox.workspace)
    argv = sandbox.program_argv([server.command, *server.args], workspace, mounts)
    params = StdioServerParameters(
        command=argv[0], args=argv[1:], env=program_env(workspace, server.env), cwd=workspace
    )
    return stdio_client(params)
