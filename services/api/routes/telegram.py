"""Telegram: GET/POST /api/telegram/config."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api import telegram
from services.api.deps import Authorized, Ctx, DbConn

router = APIRouter(prefix="/api/telegram", dependencies=[Authorized])


@router.get("/config")
async def get_config(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    return await telegram.view(ctx, conn)


@router.post("/config")
async def set_config(ctx: Ctx, conn: DbConn, body: telegram.TelegramConfigUpdate) -> dict[str, Any]:
    return await telegram.update(ctx, conn, body)
