"""Per-channel conversations: history, the channel list, a reset."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.api.schemas.common import Body, Channel


class ResetRequest(Body):
    channel: str = Channel


class HistoryMessage(BaseModel):
    role: str
    content: str
    timestamp: datetime


class HistoryResponse(BaseModel):
    messages: list[HistoryMessage]


class ChannelInfo(BaseModel):
    id: str
    label: str
    count: int
    last_ts: datetime | None
    last_msg: str | None


class ChannelsResponse(BaseModel):
    channels: list[ChannelInfo]
