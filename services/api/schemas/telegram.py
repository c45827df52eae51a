"""The Telegram channel's configuration as the owner sees it."""

from __future__ import annotations

from pydantic import BaseModel


class TelegramView(BaseModel):
    token_set: bool
    token_masked: str
    allowed_ids: list[str]
    group_chats: list[str]
    owner_chat: str | None
    polling_active: bool


class TelegramSaved(BaseModel):
    ok: bool = True
    polling_active: bool
