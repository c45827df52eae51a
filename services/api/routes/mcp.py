"""MCP servers: list them, add one, remove one, switch one on or off on every worker."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from services.api import mcp
from services.api.deps import Authorized, Ctx, DbConn
from shared.mcp import SERVER_NAME, McpServerConfig

router = APIRouter(prefix="/api/mcp/servers", dependencies=[Authorized])
ServerName = Annotated[str, Path(pattern=SERVER_NAME)]


@router.get("")
async def list_servers(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return {"servers": await mcp.list_servers(ctx, conn)}


@router.post("", status_code=201)
async def add(body: Annotated[McpServerConfig, Body()], ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await mcp.add(ctx, conn, body)


@router.delete("/{name}")
async def remove(name: ServerName, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await mcp.remove(ctx, conn, name)


@router.post("/{name}/enable")
async def enable(name: ServerName, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await mcp.set_enabled(ctx, conn, name, True)


@router.post("/{name}/disable")
async def disable(name: ServerName, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await mcp.set_enabled(ctx, conn, name, False)
