"""Settings: GET /api/config, POST /api/config/settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from services.api import config
from services.api.deps import Authorized, Ctx, DbConn

router = APIRouter(prefix="/api/config", dependencies=[Authorized])


@router.get("")
async def get_config(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await config.current(ctx, conn)


@router.post("/settings")
async def update_settings(
    ctx: Ctx, conn: DbConn, patch: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    return {"ok": True, "settings": await config.update(ctx, conn, patch)}
