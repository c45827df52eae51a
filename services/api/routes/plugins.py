"""Plugins: list them, reload their code, turn them on and off on every worker."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import plugins
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.plugins import (
    PluginDisabled,
    PluginEnabled,
    PluginName,
    PluginsReloaded,
    PluginsResponse,
)

router = APIRouter(prefix="/api/plugins", dependencies=[Authorized])


@router.get("", response_model=PluginsResponse, responses=errors())
async def list_plugins(ctx: Ctx, conn: DbConn) -> PluginsResponse:
    return await plugins.list_plugins(ctx, conn)


@router.post("/reload", response_model=PluginsReloaded, responses=errors())
async def reload(ctx: Ctx) -> PluginsReloaded:
    applied = await plugins.broadcast(ctx, reload=True)
    return PluginsReloaded(
        tools=applied.tools, count=len(applied.tools), unconfirmed=applied.unconfirmed
    )


@router.post("/enable", response_model=PluginEnabled, responses=errors(404, body=True))
async def enable(body: PluginName, ctx: Ctx, conn: DbConn) -> PluginEnabled:
    applied = await plugins.set_enabled(ctx, conn, body.name, True)
    return PluginEnabled(enabled=body.name, unconfirmed=applied.unconfirmed)


@router.post("/disable", response_model=PluginDisabled, responses=errors(404, body=True))
async def disable(body: PluginName, ctx: Ctx, conn: DbConn) -> PluginDisabled:
    applied = await plugins.set_enabled(ctx, conn, body.name, False)
    return PluginDisabled(disabled=body.name, unconfirmed=applied.unconfirmed)
