"""How a worker reaches an MCP server: streamable HTTP, or a stdio command in the sandbox.

A stdio server is a program the owner named, so it runs like the shell tool's commands: under
bubblewrap, as another uid, with no network, only the workspace writable, and an environment
of the basics plus its own `env` (never the worker's, which holds AION's secrets). With the
sandbox service, or no sandbox, stdio is refused: the service runs one command at a time to
completion and has no way yet to keep a server's stdin and stdout open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
from mcp.client._transport import Transport
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from services.worker.sandbox import Sandbox
from services.worker.sandbox.bubblewrap import BubblewrapSandbox, program_env
from shared.mcp import HttpServer, StdioServer

STDIO_NEEDS_BUBBLEWRAP = (
    "stdio MCP servers run only under the local bubblewrap sandbox, and this worker's sandbox "
    "is '{name}': run the server as a container of its own and add it with transport 'http'"
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
    if not isinstance(sandbox, BubblewrapSandbox):
        raise Refused(STDIO_NEEDS_BUBBLEWRAP.format(name=sandbox.name))
    workspace = await asyncio.to_thread(sandbox.workspace)
    argv = sandbox.program_argv([server.command, *server.args], workspace, mounts)
    params = StdioServerParameters(
        command=argv[0], args=argv[1:], env=program_env(workspace, server.env), cwd=workspace
    )
    return stdio_client(params)
