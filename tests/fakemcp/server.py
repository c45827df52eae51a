"""An MCP server for the tests: `server.py http PORT [legacy [silent]]`, `server.py stdio [legacy]`.

A standalone file (only the `mcp` package): the stdio tests run it under bubblewrap, where the
repository is not on the path. By default it serves as the SDK does, both protocol eras: a
client that probes `server/discover` gets the 2026-07-28 protocol, one that sends `initialize`
the handshake era. With `legacy` it serves only the handshake, as servers built before 2026 do;
`silent` makes it one of those that never answer a request they do not know.
Tools: add, echo, env (a variable of its environment), environ (all of it), pid, slow, crash
(the process dies mid-call), detach (leaves a process that left its group behind), grow (adds a
tool and announces it: `tools/list_changed` to a handshake-era client, an event on the
`subscriptions/listen` streams to a 2026 one), era (the protocol version of the call), drop
(cuts every open listen stream, as a lost connection would), picture, big (a long reply).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image
from mcp.server.runner import serve_loop
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

_cuts: set[anyio.Event] = set()  # one per open listen stream: set it to cut that stream


async def cuttable_listens(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
    """Serve each `subscriptions/listen` stream so that `drop` can end it abruptly: with an
    error instead of the graceful final result, which the client sees as a lost stream."""
    if ctx.method != "subscriptions/listen":
        return await call_next(ctx)
    cut = anyio.Event()
    _cuts.add(cut)
    try:
        async with anyio.create_task_group() as group:

            async def cutter() -> None:
                await cut.wait()
                group.cancel_scope.cancel()

            group.start_soon(cutter)
            result = await call_next(ctx)
            group.cancel_scope.cancel()
            return result
    finally:
        _cuts.discard(cut)
    raise MCPError(types.INTERNAL_ERROR, "the listen stream was cut")


server = MCPServer("aion-test", middleware=[cuttable_listens])


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return text


@server.tool()
def env(name: str) -> str:
    """The value of one of the server's environment variables, or (unset)."""
    return os.environ.get(name, "(unset)")


@server.tool()
def environ() -> str:
    """The server's whole environment, as JSON."""
    return json.dumps(dict(os.environ))


@server.tool()
def pid() -> str:
    """The server's process id."""
    return str(os.getpid())


@server.tool()
def detach(seconds: float) -> str:
    """Start `sleep seconds` in a session of its own and leave it behind (as a daemon would);
    its pid."""
    started = subprocess.run(
        ["/bin/sh", "-c", f"setsid sleep {seconds} > /dev/null 2>&1 < /dev/null & echo $!"],
        capture_output=True,
        text=True,
        check=True,
    )
    return started.stdout.strip()


@server.tool()
def big(size: int) -> str:
    """A reply of `size` characters."""
    return "x" * size


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "awake"


@server.tool()
def crash() -> str:
    """Die in the middle of the call."""
    os._exit(3)


@server.tool()
async def grow(ctx: Context) -> str:
    """Offer one more tool from now on."""

    def extra(word: str) -> str:
        """A tool that came later."""
        return word * 2

    server.add_tool(extra, name="extra")
    if ctx.request_context.protocol_version in MODERN_PROTOCOL_VERSIONS:
        await ctx.notify_tools_changed()
    else:
        await ctx.session.send_tool_list_changed()
    return "grown"


@server.tool()
def era(ctx: Context) -> str:
    """The protocol version this call came in."""
    return ctx.request_context.protocol_version


@server.tool()
def drop() -> str:
    """Cut every open listen stream."""
    for cut in list(_cuts):
        cut.set()
    return f"cut {len(_cuts)}"


@server.tool()
def picture() -> Image:
    """A one-pixel PNG."""
    return Image(data=bytes.fromhex(_PIXEL), format="png")


_PIXEL = (
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def legacy_http(port: int, silent: bool) -> None:
    """Refuse what a server from before 2026 does not know: a request at a 2026 protocol
    version (the `server/discover` probe) gets 400, as such a server answers a request that
    is not `initialize` and carries no session id; or, `silent`, no answer at all."""
    import uvicorn
    from starlette.responses import JSONResponse
    from starlette.types import Receive, Scope, Send

    app = server.streamable_http_app()

    async def handshake_only(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        version = headers.get(b"mcp-protocol-version", b"").decode("latin-1")
        if scope["type"] == "http" and version and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            if silent:
                await anyio.sleep_forever()
            error = {"code": types.INVALID_REQUEST, "message": "Bad Request: Missing session ID"}
            body = {"jsonrpc": "2.0", "id": "server-error", "error": error}
            await JSONResponse(body, status_code=400)(scope, receive, send)
            return
        await app(scope, receive, send)

    uvicorn.run(handshake_only, host="127.0.0.1", port=port, log_level="warning")


async def legacy_stdio() -> None:
    """The handshake-only loop: a request before `initialize` is refused with an error."""
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read, write), lowlevel.lifespan(lowlevel) as state:
        options = lowlevel.create_initialization_options()
        await serve_loop(lowlevel, read, write, lifespan_state=state, init_options=options)


if __name__ == "__main__":
    legacy = "legacy" in sys.argv[2:]
    if sys.argv[1] == "http" and legacy:
        legacy_http(int(sys.argv[2]), silent="silent" in sys.argv)
    elif sys.argv[1] == "http":
        # In a container of its own (the compose test) it listens on every address.
        host = os.environ.get("FAKEMCP_HOST", "127.0.0.1")
        server.run("streamable-http", host=host, port=int(sys.argv[2]))
    elif legacy:
        anyio.run(legacy_stdio)
    else:
        server.run("stdio")
