"""Keeps this worker's MCP servers in step with the stored ones, and tells the api it did."""

from __future__ import annotations

import logging

import orjson

from services.worker import notify
from services.worker.acks import acknowledge
from services.worker.context import WorkerContext
from services.worker.mcp import config
from shared.control import McpChanged
from shared.mcp import STATUS_KEY, McpServerStatus

log = logging.getLogger("aion.worker.mcp")


async def refresh(app: WorkerContext, *, connect: bool) -> None:
    async with app.mcp_lock:
        async with app.pool.connection() as conn:
            specs, broken = await config.load(conn, app.settings.vault())
        app.mcp.reserve(set(app.plugins.tools))
        await app.mcp.configure(specs, broken, connect=connect)
        for status in app.mcp.statuses():
            await publish(app, status)


async def publish(app: WorkerContext, status: McpServerStatus) -> None:
    """The server's status as this worker sees it (the last worker to report wins); a
    failure is also a live notice."""
    await app.redis.hset(STATUS_KEY, status.name, status.model_dump_json())
    await notify.mcp_server_failed(app, status)


async def apply(app: WorkerContext, message: McpChanged) -> None:
    """Handle an `mcp_changed` broadcast; acknowledge it with every server's status."""
    try:
        await refresh(app, connect=message.request_id is not None)
    except Exception:
        log.exception("could not apply an MCP change", extra={"worker_id": app.worker_id})
        return  # no acknowledgement: the api reports this worker as not confirmed
    statuses = [status.model_dump() for status in app.mcp.statuses()]
    await acknowledge(app, message.request_id, orjson.dumps(statuses))
