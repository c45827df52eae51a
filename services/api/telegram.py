"""The Telegram channel's configuration: token (vault) and allowed users (PostgreSQL).

The api never talks to Telegram. It stores what the owner set, tells the telegram service over
the control channel, and waits briefly until the service reports that it polls with the new
token, so that `polling_active` in the answer is true to what happened.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, field_validator

from services.api.context import AppContext
from services.api.errors import Conflict
from shared.control import CONTROL_CHANNEL, TelegramChanged, encode_control
from shared.db import Conn
from shared.db import telegram as repo
from shared.sealing import SealError
from shared.telegram import (
    TOKEN_PATTERN,
    TOKEN_SECRET,
    BotConfig,
    SealedSecret,
    TelegramStatus,
    fingerprint,
    load_config,
    read_status,
)
from shared.vault import VaultUnavailable, mask

MAX_ALLOWED_IDS = 1000
_MAX_ID = 2**63 - 1  # bigint


class TelegramConfigUpdate(BaseModel):
    """`token`: a new token, or "" / null to clear it; absent keeps it. `allowed_ids`: the
    whole list (numbers or numeric strings); absent keeps it."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = None
    allowed_ids: list[StrictInt | StrictStr] | None = None

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not TOKEN_PATTERN.match(value):
            raise ValueError(
                "not a bot token: BotFather's tokens look like 123456789:AAH... "
                "(digits, a colon, then letters, digits, '_' or '-')"
            )
        return value

    @field_validator("allowed_ids")
    @classmethod
    def _ids(cls, values: list[int | str] | None) -> list[int | str] | None:
        if values is None:
            return None
        if len(values) > MAX_ALLOWED_IDS:
            raise ValueError(f"at most {MAX_ALLOWED_IDS} ids")
        ids: list[int | str] = []
        for value in values:
            text = str(value).strip()
            if not text.isascii() or not text.isdigit():
                raise ValueError(f"'{text[:40]}' is not a numeric Telegram user id")
            number = int(text)
            if not 0 < number <= _MAX_ID:
                raise ValueError(f"{text[:40]} is out of range for a Telegram user id")
            ids.append(number)
        return ids


async def view(ctx: AppContext, conn: Conn) -> dict[str, Any]:
    config = await load_config(conn, ctx.vault, _env_token(ctx))
    status = await read_status(ctx.redis)
    return {
        "token_set": config.token is not None,
        "token_masked": mask(config.token) if config.token else "",
        "allowed_ids": [str(i) for i in sorted(config.allowed_ids)],
        "polling_active": _polling(status, config.token_fingerprint),
    }


async def update(ctx: AppContext, conn: Conn, body: TelegramConfigUpdate) -> dict[str, Any]:
    before = await load_config(conn, ctx.vault, _env_token(ctx))
    try:
        async with conn.transaction():  # the token and the ids together, or neither
            if "token" in body.model_fields_set:
                if body.token is None:
                    await ctx.vault.delete(conn, TOKEN_SECRET)
                else:
                    await ctx.vault.store(conn, {TOKEN_SECRET: body.token})
            if body.allowed_ids is not None:
                await repo.replace_allowed(conn, (int(i) for i in body.allowed_ids))
    except VaultUnavailable as exc:
        raise Conflict(str(exc)) from exc
    after = await load_config(conn, ctx.vault, _env_token(ctx))
    await ctx.redis.publish(CONTROL_CHANNEL, encode_control(TelegramChanged()))
    wanted = after.token_fingerprint
    changed = wanted != before.token_fingerprint
    return {"ok": True, "polling_active": await _wait_for_service(ctx, wanted, changed)}


async def _wait_for_service(ctx: AppContext, wanted: str | None, changed: bool) -> bool:
    """Whether the service polls with token `wanted` — after waiting a little for it to switch
    when the token changed (a service that is not running reports nothing: False)."""
    deadline = time.monotonic() + (ctx.settings.aion_telegram_switch_seconds if changed else 0)
    while True:
        status = await read_status(ctx.redis)
        settled = status is None or (
            status.token_fingerprint == wanted and status.state != "starting"
        )
        if settled or time.monotonic() >= deadline:
            return _polling(status, wanted)
        await asyncio.sleep(0.05)


async def bot_config(ctx: AppContext, conn: Conn) -> BotConfig:
    """What the telegram service runs with; stored secrets only ever sealed."""
    stored = await ctx.vault.load(conn)
    ids = await repo.allowed_ids(conn)
    owner = await repo.latest_chat(conn) or (ids[0] if ids else None)
    return BotConfig(
        token=_sealed(ctx, stored.get(TOKEN_SECRET), _env_token(ctx)),
        allowed_ids=[str(i) for i in ids],
        owner_chat=str(owner) if owner is not None else None,
        transcription_key=_sealed(
            ctx, stored.get("OPENAI_API_KEY"), ctx.env_secrets.get("OPENAI_API_KEY")
        ),
    )


def _sealed(ctx: AppContext, stored: str | None, env: str | None) -> SealedSecret:
    if stored:
        try:
            sealed = ctx.handover.seal(stored)
        except SealError as exc:
            raise Conflict(str(exc)) from exc
        return SealedSecret(source="vault", sealed=sealed, fingerprint=fingerprint(stored))
    if env:
        return SealedSecret(source="env", fingerprint=fingerprint(env))
    return SealedSecret(source="unset")


def _polling(status: TelegramStatus | None, wanted: str | None) -> bool:
    return bool(status and status.polling_active and status.token_fingerprint == wanted)


def _env_token(ctx: AppContext) -> str | None:
    token = ctx.settings.telegram_bot_token
    return token.get_secret_value() if token else None
