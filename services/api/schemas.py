"""Request and response bodies of the api (API.md)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.prompts import MAX_PROMPT_CHARS

CHANNEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$"
_IMAGE_URL = re.compile(r"^(data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https?://\S+)$", re.I)

Channel = Field(default="web", pattern=CHANNEL_PATTERN, description="conversation channel")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatRequest(_Body):
    message: str = Field(min_length=1, max_length=32000)
    channel: str = Channel
    images: list[str] = Field(default_factory=list, max_length=8)
    voice: bool = False
    model: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value

    @field_validator("images")
    @classmethod
    def _image_urls(cls, images: list[str]) -> list[str]:
        for index, image in enumerate(images):
            if not _IMAGE_URL.match(image):
                raise ValueError(
                    f"images[{index}] must be a data:image/...;base64 URL or an http(s) URL"
                )
        return images


class PromptBody(_Body):
    content: str = Field(max_length=MAX_PROMPT_CHARS)


class ResetRequest(_Body):
    channel: str = Channel


class Ok(BaseModel):
    ok: bool = True


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


class ServicesHealth(BaseModel):
    postgres: str
    redis: str
    workers: int


class StatusResponse(BaseModel):
    status: str
    version: str
    model: str
    uptime: float
    memory_entries: int
    services: ServicesHealth


class MemoryEntry(BaseModel):
    id: int
    timestamp: datetime  # when the memory was last saved or confirmed
    category: str
    content: str
    channel: str | None
    score: float | None = None  # searches only: 1.0 is the best possible match


class MemoryPage(BaseModel):
    entries: list[MemoryEntry]
    total: int
    returned: int
    has_more: bool


class Deleted(BaseModel):
    ok: bool = True
    deleted: int
