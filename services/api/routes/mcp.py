"""MCP servers: list them, add one, remove one, switch one on or off on every worker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from services.api import mcp
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors, links
from services.api.schemas.mcp import McpApplied, McpDeleted, McpServers
from shared.mcp import SERVER_NAME, McpServerConfig

router = APIRouter(prefix="/api/mcp/servers", dependencies=[Authorized])
ServerName = Annotated[str, Path(pattern=SERVER_NAME)]
# What a client (or a fuzzer following links) does next with the server it added.
_NEXT = links(
    {"name": "$response.body#/name"},
    disable="mcp_server_disable",
    enable="mcp_server_enable",
    remove="mcp_server_remove",
)


@router.get("", response_model=McpServers, response_model_exclude_none=True, responses=errors())
async def list_servers(ctx: Ctx, conn: DbConn) -> McpServers:
    return McpServers.model_validate({"servers": await mcp.list_servers(ctx, conn)})


@router.post(
    "",
    status_code=201,
    response_model=McpApplied,
    response_model_exclude_unset=True,
    responses={201: {"links": _NEXT}, **errors(409, body=True)},
)
async def add(body: Annotated[McpServerConfig, Body()], ctx: Ctx, conn: DbConn) -> McpApplied:
    return McpApplied.model_validate(await mcp.add(ctx, conn, body))


@router.delete(
    "/{name}",
    operation_id="mcp_server_remove",
    response_model=McpDeleted,
    responses=errors(404, 422),
)
async def remove(name: ServerName, ctx: Ctx, conn: DbConn) -> McpDeleted:
    return McpDeleted.model_validate(await mcp.remove(ctx, conn, name))


@router.post(
    "/{name}/enable",
    operation_id="mcp_server_enable",
    response_model=McpApplied,
    responses=errors(404, 422),
)
async def enable(name: ServerName, ctx: Ctx, conn: DbConn) -> McpApplied:
    return McpApplied.model_validate(await mcp.set_enabled(ctx, conn, name, True))


@router.post(
    "/{name}/disable",
    operation_id="mcp_server_disable",
    response_model=McpApplied,
    responses=errors(404, 422),
)
async def disable(name: ServerName, ctx: Ctx, conn: DbConn) -> McpApplied:
    return McpApplied.model_validate(await mcp.set_enabled(ctx, conn, name, False))
