"""The Telegram channel's contract between the api and the telegram service.

- The bot token is a vault secret (TELEGRAM_BOT_TOKEN; the environment variable of that name is
  the default), the allowed user ids are rows in PostgreSQL (shared/db/telegram.py); only the api
  reads them (services/api/telegram.py). This module holds no database code: the telegram
  service imports it and must not ship or load the database layer.
- The service never touches PostgreSQL: it asks the api (`GET /api/telegram/bot`, BotConfig),
  which hands a stored token over sealed under AION_TELEGRAM_HANDOVER_KEY (which both have from
  their settings, and nothing else does), so the token never crosses the API in clear.
- After a change the api publishes `telegram_changed` on the control channel; the service
  re-reads its configuration and restarts polling only when the token changed.
- The service reports on itself under STATUS_KEY (a short TTL, refreshed while it runs), so the
  api can tell `polling_active` without talking to it, and whether it polls the newest token.
- Turns nobody asked for in Telegram (reminders, late Alexa answers) are announced on
  BACKGROUND_TURNS_CHANNEL; the service follows those meant for Telegram and sends the answer.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

TOKEN_SECRET = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - a name, not a value
# `<bot id>:<secret>` as BotFather issues them (the secret is 35 characters today).
TOKEN_PATTERN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{20,100}$")
CHANNEL_PREFIX = "telegram:"
STATUS_KEY = "aion:telegram:status"
STATUS_TTL_SECONDS = 20
BACKGROUND_TURNS_CHANNEL = "aion:turns:background"


def fingerprint(token: str | None) -> str | None:
    """Which token, without the token: lets the api see that the service took the new one."""
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None


def chat_channel(chat_id: int) -> str:
    return f"{CHANNEL_PREFIX}{chat_id}"


def chat_of_channel(channel: str) -> int | None:
    """`telegram:123` → 123; None for any other channel."""
    if not channel.startswith(CHANNEL_PREFIX):
        return None
    try:
        return int(channel.removeprefix(CHANNEL_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str | None
    allowed_ids: frozenset[int]
    group_chats: frozenset[int] = frozenset()  # groups the bot may answer in; else private only

    @property
    def token_fingerprint(self) -> str | None:
        return fingerprint(self.token)


class SealedSecret(BaseModel):
    """A secret as the api hands it to the service: sealed when stored, by name when the
    service has it in its own environment (`source: "env"`), or not there at all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str  # vault, env or unset
    sealed: str | None = None
    fingerprint: str | None = None


class BotConfig(BaseModel):
    """`GET /api/telegram/bot`: what the telegram service runs with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SealedSecret
    allowed_ids: list[str]
    group_chats: list[str] = Field(default_factory=list)
    # Where answers with no chat of their own go: the owner's setting, else the first allowed
    # user's private chat.
    owner_chat: str | None
    transcription_key: SealedSecret  # OPENAI_API_KEY, for voice notes


class TelegramStatus(BaseModel):
    """What the service last said about itself."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    polling_active: bool = False  # receiving updates (long polling or webhook)
    token_fingerprint: str | None = None  # the token of the configuration it applied
    # off (no token), starting, polling, webhook, standby (another replica polls), failed
    state: str = "off"
    detail: str | None = None  # why it failed, for a person (never the token)
    updated_ms: int = Field(default_factory=lambda: int(time.time() * 1000))


async def read_status(redis: Redis) -> TelegramStatus | None:
    raw = await redis.get(STATUS_KEY)
    return TelegramStatus.model_validate_json(raw) if raw else None


async def write_status(redis: Redis, status: TelegramStatus) -> None:
    await redis.set(STATUS_KEY, status.model_dump_json(), ex=STATUS_TTL_SECONDS)


class BackgroundTurn(BaseModel):
    """A turn that started without a Telegram message; `to_owner`: send its answer to the
    owner's chat even though it runs on another channel (a late Alexa answer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn_id: str
    channel: str
    to_owner: bool = False


async def announce_background_turn(redis: Redis, turn: BackgroundTurn) -> None:
    await redis.publish(BACKGROUND_TURNS_CHANNEL, turn.model_dump_json())
