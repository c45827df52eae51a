"""What the fake remembers: bots, queued updates, files, the bot's messages, recorded calls."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class Call:
    """One Bot API request as the fake received it, and what it answered."""

    method: str
    token: str
    params: dict[str, Any]  # decoded values; uploaded files as `Upload` under their part name
    at: float  # time.monotonic()
    status: int = 200
    response: Any = None
    uploads: dict[str, Upload] = field(default_factory=dict)  # file parts, with their names

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Edit:
    at: float  # time.monotonic()
    text: str
    parse_mode: str | None


@dataclass
class BotMessage:
    """The current state of one message the bot sent (text messages and media alike)."""

    token: str
    chat_id: int
    message_id: int
    kind: str  # "text", "voice", "audio", "document", "photo"
    text: str  # as sent (text, or the caption of a media message)
    parse_mode: str | None
    reply_markup: Any
    sent_at: float
    plain: str = ""  # the text after entities parsing
    entities: list[dict[str, Any]] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False
    upload: Upload | None = None  # the uploaded file of a media message
    reply_to: int | None = None
    object: dict[str, Any] = field(default_factory=dict)  # the Message JSON last returned


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to a bot's webhook."""

    url: str
    update_id: int
    status: int  # the webhook's HTTP status, 0 when it could not be reached
    headers: dict[str, str]  # what the fake sent (the secret token header among them)
    at: float


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    token: str | None = None  # None: whichever bot calls first


@dataclass
class Bot:
    """One token's bot: its identity, update queue, poller and settings."""

    token: str
    id: int
    username: str
    first_name: str
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    next_update_id: int = 100_000_001
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str | None = None
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # scope key → list
    poll_count: int = 0
    conflicts: int = 0
    poller: object | None = None  # the getUpdates request currently held open
    webhook_signal: object | None = None  # wakes the webhook deliverer
    webhook_task: asyncio.Task[None] | None = None
    webhook_error: str | None = None  # the last failed delivery, for getWebhookInfo

    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }
