"""Chat turns and approvals: what a client sends to start, stop or decide one."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from services.api.schemas.common import Body, Channel
from services.api.schemas.files import FILE_ID_PATTERN

# How many files one message may carry (their text is cut to a budget each).
MAX_CHAT_FILES = 10
FILE_ID = re.compile(FILE_ID_PATTERN)
IMAGE_URL = re.compile(r"^(data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https?://\S+)$", re.I)


class ChatRequest(Body):
    # May be empty when images come with it (an image-only message, as the old clients send).
    message: str = Field(default="", max_length=32000)
    channel: str = Channel
    images: list[str] = Field(default_factory=list, max_length=8)
    files: list[str] = Field(
        default_factory=list,
        max_length=MAX_CHAT_FILES,
        description="ids of the owner's files (POST /api/files) whose text the model reads",
    )
    voice: bool = False
    model: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("images")
    @classmethod
    def _image_urls(cls, images: list[str]) -> list[str]:
        for index, image in enumerate(images):
            if not IMAGE_URL.match(image):
                raise ValueError(
                    f"images[{index}] must be a data:image/...;base64 URL or an http(s) URL"
                )
        return images

    @field_validator("files")
    @classmethod
    def _file_ids(cls, files: list[str]) -> list[str]:
        for index, file_id in enumerate(files):
            if not FILE_ID.match(file_id):
                raise ValueError(f"files[{index}] is not a file id (see GET /api/files)")
        if len(set(files)) != len(files):
            raise ValueError("files lists a file more than once")
        return files

    @field_validator("message")
    @classmethod
    def _storable(cls, message: str) -> str:
        if "\x00" in message:
            raise ValueError("message must not contain NUL (U+0000) characters")
        return message

    @model_validator(mode="after")
    def _says_something(self) -> ChatRequest:
        if not self.message.strip() and not self.images and not self.files:
            raise ValueError("message must not be blank (unless images or files are sent)")
        return self


class StopRequest(Body):
    channel: str = Channel


class Stopped(BaseModel):
    ok: bool = True
    job: str | None = Field(description="the turn asked to stop; null when none was running")


class ApprovalDecision(Body):
    approve: StrictBool  # a risky action is approved by `true`, never by "yes" or 1


class ApprovalDenied(BaseModel):
    ok: bool = True
    job: str = Field(description="the turn in which the model is told; see /api/chat/{job}/events")


class PendingApproval(BaseModel):
    id: str
    channel: str
    tool: str
    args: dict[str, Any] = Field(description="exactly what runs if approved")
    expires_at: str = Field(description="ISO time after which it can no longer be decided")


class PendingApprovals(BaseModel):
    approvals: list[PendingApproval] = Field(description="oldest first, at most 100")


class SignInRequest(Body):
    token: str = Field(min_length=1, max_length=512)
