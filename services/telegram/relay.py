"""Answers nobody asked for in Telegram: reminders on a Telegram chat, late Alexa answers.

Such turns are announced on BACKGROUND_TURNS_CHANNEL (shared/telegram.py). A turn on a
`telegram:<chat>` channel is shown in that chat; a turn meant for the owner (`to_owner`) goes
to the owner's chat (`owner_chat`). They take their place in the chat's queue like a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pydantic
from redis.asyncio import Redis
from telegram import Bot

from services.telegram.present import ChatOut, notify, present
from services.telegram.runtime import Runtime
from services.telegram.subscriptions import subscribe_forever
from shared import notices
from shared.notices import AlexaToTelegramNotice
from shared.telegram import BACKGROUND_TURNS_CHANNEL, BackgroundTurn, chat_of_channel

log = logging.getLogger("aion.telegram.relay")

FROM_ALEXA = "🔊 The answer to what you asked Alexa:"


async def relay_background_turns(
    redis: Redis, runtime: Runtime, current_bot: Callable[[], Bot | None]
) -> None:
    """Follow announced turns for as long as the service runs (reconnecting to Redis)."""

    async def on_message(data: bytes) -> None:
        try:
            turn = BackgroundTurn.model_validate_json(data)
        except pydantic.ValidationError:
            return
        await _take(turn, runtime, current_bot(), redis)

    await subscribe_forever(redis, BACKGROUND_TURNS_CHANNEL, on_message)


async def _take(turn: BackgroundTurn, runtime: Runtime, bot: Bot | None, redis: Redis) -> None:
    chat_id = chat_of_channel(turn.channel)
    if chat_id is None and turn.to_owner:
        owner = (await runtime.api.bot_config()).owner_chat
        chat_id = int(owner) if owner else None
    if chat_id is None or bot is None:
        return  # not for Telegram, no owner chat known, or no bot running
    out = ChatOut(bot, runtime.outbox, runtime.api, chat_id)

    async def work() -> None:
        if chat_of_channel(turn.channel) is None:
            await notify(out, FROM_ALEXA if turn.channel == "alexa" else f"From {turn.channel}:")
        await present(out, runtime.api.follow(turn.turn_id))
        if turn.to_owner and turn.channel == "alexa":
            # The console says where the answer went (live notices, shared/notices.py).
            await notices.publish(redis, AlexaToTelegramNotice(turn_id=turn.turn_id))

    log.info("showing a background turn", extra={"turn_id": turn.turn_id, "channel": turn.channel})
    runtime.queues.submit(chat_id, work)
