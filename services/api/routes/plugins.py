"""Plugins: list them, reload their code, turn them on and off on every worker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api import plugins
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas import PluginName

router = APIRouter(prefix="/api/plugins", dependencies=[Authorized])


@router.get("")
async def list_plugins(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await plugins.list_plugins(ctx, conn)


@router.post("/reload")
async def reload(ctx: Ctx) -> dict[str, Any]:
    applied = await plugins.broadcast(ctx, reload=True)
    return {
        "ok": True,
        "tools": applied.tools,
        "count": len(applied.tools),
        "unconfirmed": applied.unconfirmed,
    }


@router.post("/enable")
async def enable(body: PluginName, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    applied = await plugins.set_enabled(ctx, conn, body.name, True)
    return {"ok": True, "enabled": body.name, "unconfirmed": applied.unconfirmed}


@router.post("/disable")
async def disable(body: PluginName, ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    applied = await plugins.set_enabled(ctx, conn, body.name, False)
    return {"ok": True, "disabled": body.name, "unconfirmed": applied.unconfirmed}
