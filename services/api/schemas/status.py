"""The public status summary and the update check."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
