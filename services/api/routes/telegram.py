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


@router.get("/bot")
async def get_bot_config(ctx: Ctx, conn: DbConn) -> dict[str, Any]:
    """For the telegram service (it never reads the database): its token sealed under
    AION_TELEGRAM_HANDOVER_KEY, never in clear."""
    return (await telegram.bot_config(ctx, conn)).model_dump()


@router.post("/config")
async def set_config(ctx: Ctx, conn: DbConn, body: telegram.TelegramConfigUpdate) -> dict[str, Any]:
    return await telegram.update(ctx, conn, body)
