"""The owner's MCP servers from the api's side: stored with their secrets sealed, shown masked,
and every change confirmed by the live workers (which connect to the server) before it returns."""

from __future__ import annotations

from typing import Any

import psycopg.errors
import pydantic

from services.api.broadcast import announce
from services.api.context import AppContext
from services.api.errors import Conflict, NotFound
from shared import mcp
from shared.control import McpChanged
from shared.db import Conn
from shared.db import mcp_servers as repo
from shared.sealing import SealError
from shared.vault import VaultUnavailable, mask


async def list_servers(ctx: AppContext, conn: Conn) -> list[dict[str, Any]]:
    statuses = await _statuses(ctx)
    return [_shown(ctx, row, statuses.get(row.name)) for row in await repo.list_all(conn)]


async def add(
    ctx: AppContext, conn: Conn, server: mcp.HttpServer | mcp.StdioServer
) -> dict[str, Any]:
    try:
        sealed = mcp.seal(server, ctx.vault)
    except VaultUnavailable as exc:
        raise Conflict(f"header and env values are stored encrypted: {exc}") from exc
    try:
        created = await repo.create(
            conn, server.name, server.transport, mcp.public_config(server), sealed
        )
    except psycopg.errors.UniqueViolation:
        created = False
    if not created:
        raise Conflict(f"An MCP server named '{server.name}' exists already.")
    status, unconfirmed = await _apply(ctx, server.name)
    return {
        "ok": True,
        "name": server.name,
        "status": status.status if status else None,
        "error": status.error if status else None,
        "tools": [tool.model_dump() for tool in status.tools] if status else [],
        "unconfirmed": unconfirmed,
    }


async def remove(ctx: AppContext, conn: Conn, name: str) -> dict[str, Any]:
    if not await repo.delete(conn, name):
        raise NotFound(f"No MCP server named '{name}'.")
    _, unconfirmed = await _apply(ctx, None)
    await ctx.redis.hdel(mcp.STATUS_KEY, name)
    return {"ok": True, "deleted": name, "unconfirmed": unconfirmed}


async def set_enabled(ctx: AppContext, conn: Conn, name: str, enabled: bool) -> dict[str, Any]:
    if not await repo.set_enabled(conn, name, enabled):
        raise NotFound(f"No MCP server named '{name}'.")
    status, unconfirmed = await _apply(ctx, name)
    return {
        "ok": True,
        "name": name,
        "enabled": enabled,
        "status": status.status if status else None,
        "error": status.error if status else None,
        "tools": [tool.model_dump() for tool in status.tools] if status else [],
        "unconfirmed": unconfirmed,
    }


async def _apply(ctx: AppContext, name: str | None) -> tuple[mcp.McpServerStatus | None, list[str]]:
    """Broadcast the change; the status of `name` as the workers that answered saw it (one
    that connected wins over one that did not)."""
    acks = await announce(ctx, McpChanged(), ctx.settings.aion_mcp_ack_timeout_seconds)
    unconfirmed = acks.unconfirmed
    seen: list[mcp.McpServerStatus] = []
    for raw in acks.reports.values():
        try:
            reported = pydantic.TypeAdapter(list[mcp.McpServerStatus]).validate_json(raw)
        except pydantic.ValidationError:
            continue
        seen += [status for status in reported if status.name == name]
    seen.sort(key=lambda status: status.status != "connected")
    return (seen[0] if seen else None), unconfirmed


async def _statuses(ctx: AppContext) -> dict[str, mcp.McpServerStatus]:
    raw = await ctx.redis.hgetall(mcp.STATUS_KEY)
    found = {}
    for name, value in raw.items():
        try:
            found[name.decode()] = mcp.McpServerStatus.model_validate_json(value)
        except pydantic.ValidationError:
            continue
    return found


def _shown(
    ctx: AppContext, row: repo.McpServerRow, status: mcp.McpServerStatus | None
) -> dict[str, Any]:
    secrets: dict[str, dict[str, str]] = {}
    if row.sealed_secrets is not None:
        try:
            secrets = mcp.unsealed(row, ctx.vault).model_dump()["server"]
        except (SealError, pydantic.ValidationError):
            secrets = {}
    shown: dict[str, Any] = {**row.config, "transport": row.transport, "enabled": row.enabled}
    for field in ("headers", "env"):
        if field in secrets:
            shown[field] = {key: mask(value) for key, value in secrets[field].items()}
        elif (row.transport == "http") == (field == "headers"):
            shown[field] = {}
    if not row.enabled:
        shown.update(status="disabled", error=None, tools=[])
    elif status is None:
        shown.update(status="error", error="no worker has connected to it yet", tools=[])
    else:
        shown.update(
            status=status.status,
            error=status.error,
            tools=[tool.model_dump() for tool in status.tools],
        )
    return shown
