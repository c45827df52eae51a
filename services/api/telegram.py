"""The Telegram channel's configuration: token (vault) and allowed users (PostgreSQL).

The api never talks to Telegram. It stores what the owner set, tells the telegram service over
the control channel, and waits briefly until the service reports that it polls with the new
token, so that `polling_active` in the answer is true to what happened.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, field_validator

from services.api.context import AppContext
from services.api.errors import Conflict, Unprocessable
from services.api.schemas.telegram import TelegramSaved, TelegramView
from shared.control import CONTROL_CHANNEL, TelegramChanged, encode_control
from shared.db import Conn
from shared.db import telegram as repo
from shared.sealing import SealError
from shared.telegram import (
    TOKEN_PATTERN,
    TOKEN_SECRET,
    BotConfig,
    SealedSecret,
    TelegramConfig,
    TelegramStatus,
    fingerprint,
    read_status,
)
from shared.vault import Vault, VaultUnavailable, mask

MAX_ALLOWED_IDS = 1000
_MAX_ID = 2**63 - 1  # bigint


def _chat_id(value: int | str, *, group: bool) -> int:
    """A Telegram id given as a number or a numeric string: users are positive, groups negative."""
    text = str(value).strip()
    digits = text.removeprefix("-") if group else text
    kind = "group chat id" if group else "user id"
    if not text or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"'{text[:40]}' is not a numeric Telegram {kind}")
    number = int(text)
    if not (-_MAX_ID <= number < 0 if group else 0 < number <= _MAX_ID):
        sign = "negative" if group else "positive"
        raise ValueError(f"{text[:40]} is not a Telegram {kind} (those are {sign} 64-bit numbers)")
    return number


class TelegramConfigUpdate(BaseModel):
    """`token`: a new token, or "" / null to clear it; absent keeps it. `allowed_ids` and
    `group_chats`: the whole list (numbers or numeric strings); absent keeps it. `owner_chat`:
    an allowed user's private chat (their id) or a listed group; "" / null clears it."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = None
    allowed_ids: list[StrictInt | StrictStr] | None = None
    group_chats: list[StrictInt | StrictStr] | None = None
    owner_chat: StrictInt | StrictStr | None = None

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
        return [_chat_id(value, group=False) for value in values]

    @field_validator("group_chats")
    @classmethod
    def _groups(cls, values: list[int | str] | None) -> list[int | str] | None:
        if values is None:
            return None
        if len(values) > MAX_ALLOWED_IDS:
            raise ValueError(f"at most {MAX_ALLOWED_IDS} ids")
        return [_chat_id(value, group=True) for value in values]

    @field_validator("owner_chat")
    @classmethod
    def _owner(cls, value: int | str | None) -> int | str | None:
        if value is None or str(value).strip() == "":
            return None
        return _chat_id(value, group=str(value).strip().startswith("-"))


async def load_config(conn: Conn, vault: Vault, env_token: str | None) -> TelegramConfig:
    """The stored token over the environment's; the allowed ids and groups from the database."""
    stored = (await vault.load(conn)).get(TOKEN_SECRET)
    token = (stored or env_token or "").strip() or None
    return TelegramConfig(
        token, frozenset(await repo.allowed_ids(conn)), frozenset(await repo.group_chats(conn))
    )


async def view(ctx: AppContext, conn: Conn) -> TelegramView:
    config = await load_config(conn, ctx.vault, _env_token(ctx))
    status = await read_status(ctx.redis)
    return TelegramView(
        token_set=config.token is not None,
        token_masked=mask(config.token) if config.token else "",
        allowed_ids=[str(i) for i in sorted(config.allowed_ids)],
        group_chats=[str(i) for i in sorted(config.group_chats)],
        owner_chat=_str_or_none(await repo.owner_chat(conn)),
        polling_active=_polling(status, config.token_fingerprint),
    )


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


async def update(ctx: AppContext, conn: Conn, body: TelegramConfigUpdate) -> TelegramSaved:
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
            if body.group_chats is not None:
                await repo.replace_group_chats(conn, (int(i) for i in body.group_chats))
            if "owner_chat" in body.model_fields_set:
                await repo.set_owner_chat(
                    conn, None if body.owner_chat is None else int(body.owner_chat)
                )
            await _check_owner_chat(conn)
    except VaultUnavailable as exc:
        raise Conflict(str(exc)) from exc
    after = await load_config(conn, ctx.vault, _env_token(ctx))
    await ctx.redis.publish(CONTROL_CHANNEL, encode_control(TelegramChanged()))
    wanted = after.token_fingerprint
    changed = wanted != before.token_fingerprint
    return TelegramSaved(polling_active=await _wait_for_service(ctx, wanted, changed))


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


async def _check_owner_chat(conn: Conn) -> None:
    """Inside the update's transaction: the owner's chat must be one the bot may answer in."""
    owner = await repo.owner_chat(conn)
    if owner is None:
        return
    allowed = await repo.group_chats(conn) if owner < 0 else await repo.allowed_ids(conn)
    if owner not in allowed:
        where = "group_chats" if owner < 0 else "allowed_ids"
        raise Unprocessable(
            f"owner_chat: {owner} is not in {where} (the bot only answers in chats it may use)"
        )


async def bot_config(ctx: AppContext, conn: Conn) -> BotConfig:
    """What the telegram service runs with; stored secrets only ever sealed."""
    stored = await ctx.vault.load(conn)
    ids = await repo.allowed_ids(conn)
    owner = await repo.owner_chat(conn) or (ids[0] if ids else None)
    return BotConfig(
        token=_sealed(ctx, stored.get(TOKEN_SECRET), _env_token(ctx)),
        allowed_ids=[str(i) for i in ids],
        group_chats=[str(i) for i in await repo.group_chats(conn)],
        owner_chat=_str_or_none(owner),
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
