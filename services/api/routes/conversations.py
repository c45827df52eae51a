"""Per-channel conversations: history, channel list, reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api import conversations
from services.api.deps import Authorized, DbConn
from services.api.schemas.common import CHANNEL_PATTERN, Ok, errors
from services.api.schemas.conversations import ChannelsResponse, HistoryResponse, ResetRequest

router = APIRouter(prefix="/api", dependencies=[Authorized])


@router.get("/history", response_model=HistoryResponse, responses=errors(422))
async def history(
    conn: DbConn,
    channel: Annotated[str, Query(pattern=CHANNEL_PATTERN)] = "web",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HistoryResponse:
    return HistoryResponse(messages=await conversations.history(conn, channel, limit))


@router.get("/channels", response_model=ChannelsResponse, responses=errors())
async def channels(conn: DbConn) -> ChannelsResponse:
    return ChannelsResponse(channels=await conversations.channels(conn))


@router.post("/reset", response_model=Ok, responses=errors(body=True))
async def reset(conn: DbConn, body: ResetRequest | None = None) -> Ok:
    await conversations.reset(conn, (body or ResetRequest()).channel)
    return Ok()
