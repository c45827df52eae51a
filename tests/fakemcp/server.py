"""An MCP server for the tests: `server.py http PORT` (streamable HTTP) or `server.py stdio`.

A standalone file (only the `mcp` package): the stdio tests run it under bubblewrap, where the
repository is not on the path. Tools: add, echo, env (a variable of its environment), environ
(all of it), pid, slow, crash (the process dies mid-call), detach (leaves a process that left
its group behind), grow (adds a tool and sends tools/list_changed), picture, big (a long reply).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image

server = MCPServer("aion-test")


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
    await ctx.session.send_tool_list_changed()
    return "grown"


@server.tool()
def picture() -> Image:
    """A one-pixel PNG."""
    return Image(data=bytes.fromhex(_PIXEL), format="png")


_PIXEL = (
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

if __name__ == "__main__":
    if sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
