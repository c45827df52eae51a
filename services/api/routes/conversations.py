"""Per-channel conversations: history, channel list, reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api import conversations
from services.api.deps import Authorized, DbConn
from services.api.schemas import (
    CHANNEL_PATTERN,
    ChannelsResponse,
    HistoryResponse,
    Ok,
    ResetRequest,
)

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get("/history", response_model=HistoryResponse)
async def history(
    conn: DbConn,
    channel: Annotated[str, Query(pattern=CHANNEL_PATTERN)] = "web",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HistoryResponse:
    return HistoryResponse(messages=await conversations.history(conn, channel, limit))


@router.get("/channels", response_model=ChannelsResponse)
async def channels(conn: DbConn) -> ChannelsResponse:
    return ChannelsResponse(channels=await conversations.channels(conn))


@router.post("/reset", response_model=Ok)
async def reset(conn: DbConn, body: ResetRequest | None = None) -> Ok:
    await conversations.reset(conn, (body or ResetRequest()).channel)
    return Ok()
