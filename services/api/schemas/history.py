"""Bodies of the history routes (GET /api/conversations ...)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.api.schemas.conversations import HistoryMessage


class ConversationSummary(BaseModel):
    id: int
    channel: str
    title: str | None
    started_at: datetime
    last_at: datetime | None
    messages: int
    open: bool


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]
    has_more: bool


class ConversationDetail(BaseModel):
    id: int
    channel: str
    title: str | None
    open: bool
    started_at: datetime
    messages: list[HistoryMessage]
