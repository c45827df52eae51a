"""Request and response bodies of the api (API.md)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from shared.prompts import MAX_PROMPT_CHARS

CHANNEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$"
IMAGE_URL = re.compile(r"^(data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https?://\S+)$", re.I)

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
            if not IMAGE_URL.match(image):
                raise ValueError(
                    f"images[{index}] must be a data:image/...;base64 URL or an http(s) URL"
                )
        return images


class SignInRequest(_Body):
    token: str = Field(min_length=1, max_length=512)


class PromptBody(_Body):
    content: str = Field(max_length=MAX_PROMPT_CHARS)


class PluginName(_Body):
    name: str = Field(min_length=1, max_length=64)


class ApprovalDecision(_Body):
    approve: StrictBool  # a risky action is approved by `true`, never by "yes" or 1


MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"


class ModelRequest(_Body):
    model: str = Field(pattern=MODEL_PATTERN, description="e.g. gpt-4o-mini, claude-sonnet-4-5")


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


class UpdateStatus(BaseModel):
    """GET /api/update-status: API.md's fields, then what tells the owner what to do."""

    current_version: str
    latest_version: str | None
    update_available: bool
    release_url: str | None
    release_notes: str | None
    last_checked: datetime | None
    error: str | None
    image_tag: str | None = Field(description="the container image tag to pull, if newer")
    repo: str | None
    published_at: datetime | None
    checking: bool = Field(description="a check the owner asked for is queued or running")
    message: str


class UpdateTrigger(BaseModel):
    ok: bool = True
    message: str


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
