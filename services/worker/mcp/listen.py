"""How a session on the 2026-07-28 protocol learns that the server's tools changed.

That protocol has no `notifications/tools/list_changed` on the session: changes come on a
`subscriptions/listen` stream the client opens, with no replay. So the stream is kept open
beside the session, and every event, and every (re)opening, asks for a re-listing (what changed
while no stream was open is only found by listing). A stream that ends, gracefully or lost, is
opened again at once, then with backoff if it keeps ending quickly; if opening it fails because
the transport is gone, the session is reported broken and the supervisor reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import mcp_types as types
from mcp import Client
from mcp.client.subscriptions import SubscriptionLost
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from services.worker.mcp.errors import describe, transport_failure

log = logging.getLogger("aion.worker.mcp")

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0


def announces_changes(client: Client) -> bool:
    """A 2026 session whose server serves listen streams for tool changes."""
    if client.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    tools = client.server_capabilities.tools
    return bool(tools and tools.list_changed)


async def follow(
    client: Client,
    name: str,
    *,
    relist: Callable[[], None],
    broken: Callable[[str], None],
    ack_timeout: float,
) -> None:
    """Keep a tools listen stream open until cancelled (the session's end), the transport is
    found gone (`broken`), or the server refuses listening altogether."""
    loop = asyncio.get_running_loop()
    delay = 0.0  # the first re-listen after a stream that lived is immediate
    while True:
        opened = loop.time()
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(ack_timeout):
                    stream = await stack.enter_async_context(client.listen(tools_list_changed=True))
                relist()
                async for _ in stream:
                    relist()
            why = "was closed by the server"
        except SubscriptionLost as exc:
            why = f"was lost ({describe(exc.__cause__ or exc)})"
        except TimeoutError:
            why = "was not acknowledged in time"
        except MCPError as exc:
            if transport_failure(exc):
                broken(f"listen stream: {describe(exc)}")
                return
            if exc.error.code == types.METHOD_NOT_FOUND:
                log.warning("MCP server %s refuses listen streams: changes not followed", name)
                return
            why = f"was refused ({describe(exc)})"
        except Exception as exc:
            broken(f"listen stream: {describe(exc)}")
            return
        if loop.time() - opened > MAX_BACKOFF_SECONDS:
            delay = 0.0
        log.info("MCP server %s: the tools listen stream %s; listening again", name, why)
        await asyncio.sleep(delay)
        delay = min(max(delay * 2, FIRST_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)
