"""Telegram: GET/POST /api/telegram/config, GET /api/telegram/bot."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import telegram
from services.api.deps import Authorized, Ctx, DbConn
from services.api.schemas.common import errors
from services.api.schemas.telegram import TelegramSaved, TelegramView
from shared.telegram import BotConfig

router = APIRouter(prefix="/api/telegram", dependencies=[Authorized])


@router.get("/config", response_model=TelegramView, responses=errors())
async def get_config(ctx: Ctx, conn: DbConn) -> TelegramView:
    return await telegram.view(ctx, conn)


@router.get("/bot", response_model=BotConfig, responses=errors(409))
async def get_bot_config(ctx: Ctx, conn: DbConn) -> BotConfig:
    """For the telegram service (it never reads the database): its token sealed under
    AION_TELEGRAM_HANDOVER_KEY, never in clear."""
    return await telegram.bot_config(ctx, conn)


@router.post("/config", response_model=TelegramSaved, responses=errors(409, body=True))
async def set_config(ctx: Ctx, conn: DbConn, body: telegram.TelegramConfigUpdate) -> TelegramSaved:
    return await telegram.update(ctx, conn, body)
