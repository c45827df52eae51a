"""What every handler does first and last: find the runtime, admit the sender, queue the work."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ContextTypes

from services.telegram.api_client import ApiError
from services.telegram.present import ChatOut, notify, present
from services.telegram.runtime import Runtime
from shared.telegram import chat_channel

log = logging.getLogger("aion.telegram.bot")

Context = ContextTypes.DEFAULT_TYPE
Work = Callable[[], Awaitable[None]]
RUNTIME = "aion_runtime"  # the key of the Runtime in the application's bot_data
UNKNOWN_USER = (
    "This is a private AION assistant. Your Telegram user id is <code>{id}</code>: "
    "give it to the owner if you should be let in."
)
MAX_TOLD_UNKNOWN = 10_000


def runtime(context: Context) -> Runtime:
    found: Runtime = context.bot_data[RUNTIME]
    return found


async def admitted(update: Update, context: Context) -> bool:
    """Allowed users pass in private chats and in the groups the owner listed; anyone else is
    told their id once, and nothing else. In any other group the bot says nothing: its answers
    would be read by everyone there."""
    rt = runtime(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    if chat.type != ChatType.PRIVATE and chat.id not in rt.group_chats:
        log.info("a message in a group chat not allowed", extra={"channel": chat_channel(chat.id)})
        if update.callback_query is not None:
            await update.callback_query.answer("AION does not answer in this chat.")
        return False
    if user.id in rt.allowed_ids:
        return True
    log.info("a message from a user who is not allowed", extra={"channel": chat_channel(chat.id)})
    if update.callback_query is not None:
        await update.callback_query.answer("You are not allowed to do this.")
    elif user.id not in rt.told_unknown and update.effective_message is not None:
        if len(rt.told_unknown) >= MAX_TOLD_UNKNOWN:
            rt.told_unknown.clear()
        rt.told_unknown.add(user.id)
        await update.effective_message.reply_text(
            UNKNOWN_USER.format(id=user.id), parse_mode=ParseMode.HTML
        )
    return False


def chat_out(update: Update, context: Context) -> ChatOut:
    """Where answers to this update go (the chat's outbox keeps Telegram's rate limits)."""
    assert update.effective_chat is not None
    rt = runtime(context)
    return ChatOut(context.bot, rt.outbox, rt.api, update.effective_chat.id)


def submit(context: Context, out: ChatOut, work: Work) -> None:
    runtime(context).queues.submit(out.chat_id, work)


def chat_turn(
    context: Context,
    out: ChatOut,
    message: str,
    *,
    images: list[str] | None = None,
    files: list[str] | None = None,
    voice: bool = False,
) -> Work:
    """A turn on this chat's channel, presented as it streams."""
    api = runtime(context).api

    async def work() -> None:
        events = api.chat(
            message, chat_channel(out.chat_id), images=images, files=files, voice=voice
        )
        try:
            await present(out, events, voice=voice)
        except ApiError as exc:  # refused before the turn started (input, a store down)
            await notify(out, f"⚠️ AION could not take that: {exc.detail}")

    return work


async def send_html(out: ChatOut, text: str) -> None:
    await out.outbox.send(
        out.chat_id, lambda: out.bot.send_message(out.chat_id, text, parse_mode=ParseMode.HTML)
    )
