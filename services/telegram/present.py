"""A turn's events, shown in a chat: streamed text, approval buttons, voice, errors.

`present` consumes the SSE events of one turn (a new message, an approval's continuation, or a
turn AION started on its own) and leaves the chat showing exactly the answer: one streamed and
then formatted text, an approval prompt with Approve / Deny buttons, the spoken answer as a voice
note when the owner spoke, and a short notice when the turn failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from services.telegram.api_client import AionApi, ApiError
from services.telegram.outbox import Outbox
from services.telegram.streaming import ReplyStream
from shared.events import (
    ApprovalEvent,
    AudioBlock,
    DoneEvent,
    ErrorEvent,
    ImageBlock,
    TokenEvent,
    TurnEvent,
    without_approval,
)

log = logging.getLogger("aion.telegram.present")

APPROVE, DENY = "approve", "deny"
VOICE_WITH_TEXT_CHARS = 300  # a spoken answer longer than this comes as text too
TYPING_EVERY_SECONDS = 4.5  # Telegram shows a chat action for about 5 s
# A prompt must fit one message (4096 characters after entities). Longer arguments are sent
# whole, as a file, before it: the owner approves only what they could read.
PROMPT_MAX_CHARS = 3800
ARGS_PREVIEW_CHARS = 600


@dataclass(frozen=True, slots=True)
class ChatOut:
    """Where and how to answer: the bot, the chat's pacing, the api for audio files."""

    bot: Bot
    outbox: Outbox
    api: AionApi
    chat_id: int


def approval_buttons(approval_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Approve", callback_data=f"{APPROVE}:{approval_id}"),
                InlineKeyboardButton("❌ Deny", callback_data=f"{DENY}:{approval_id}"),
            ]
        ]
    )


def approval_args(approval: ApprovalEvent) -> str:
    return json.dumps(approval.args, ensure_ascii=False, indent=1)


def approval_fits(approval: ApprovalEvent) -> bool:
    """Whether the whole prompt, arguments included, fits one message."""
    return len(approval.message) + len(approval_args(approval)) <= PROMPT_MAX_CHARS


def approval_text(approval: ApprovalEvent) -> str:
    """The prompt: every argument when it fits; else a preview that points to the file."""
    args = approval_args(approval)
    message = approval.message
    shown = f"<pre>{html.escape(args)}</pre>"
    if not approval_fits(approval):
        message = message[:ARGS_PREVIEW_CHARS]
        shown = (
            f"<pre>{html.escape(args[:ARGS_PREVIEW_CHARS])} …</pre>\n"
            f"The arguments are long ({len(args):,} characters): all of them are in "
            "<code>arguments.json</code> above. Read it before you approve."
        )
    return (
        f"🔐 <b>Approval needed</b>\n{html.escape(message)}\n\n"
        f"Tool: <code>{html.escape(approval.tool)}</code>\n{shown}"
    )


async def _ask(out: ChatOut, approval: ApprovalEvent) -> None:
    if not approval_fits(approval):
        document = json.dumps(
            {"tool": approval.tool, "message": approval.message, "arguments": approval.args},
            ensure_ascii=False,
            indent=2,
        ).encode()
        await out.outbox.send(
            out.chat_id,
            partial(
                out.bot.send_document,
                out.chat_id,
                document,
                filename="arguments.json",
                caption=f"The full call of {approval.tool} that waits for your approval",
            ),
        )
    await out.outbox.send(
        out.chat_id,
        partial(
            out.bot.send_message,
            out.chat_id,
            approval_text(approval),
            parse_mode=ParseMode.HTML,
            reply_markup=approval_buttons(approval.id),
        ),
    )


async def _keep_typing(out: ChatOut, action: str) -> None:
    while True:
        with contextlib.suppress(TelegramError):
            await out.bot.send_chat_action(out.chat_id, action)
        await asyncio.sleep(TYPING_EVERY_SECONDS)


async def present(out: ChatOut, events: AsyncIterator[TurnEvent], *, voice: bool = False) -> None:
    """Show one turn; returns once its last event is shown."""
    stream = ReplyStream(out.bot, out.outbox, out.chat_id)
    typing = asyncio.create_task(
        _keep_typing(out, ChatAction.RECORD_VOICE if voice else ChatAction.TYPING)
    )
    approvals: list[ApprovalEvent] = []
    try:
        async for event in events:
            if isinstance(event, TokenEvent):
                # Spoken answers are sent whole; after an approval, the text is its question,
                # asked with buttons below.
                if not voice and not approvals:
                    stream.add(event.text)
                    if stream.text.strip():
                        typing.cancel()
            elif isinstance(event, ApprovalEvent):
                approvals.append(event)  # shown after the text that led to it
            elif isinstance(event, DoneEvent):
                typing.cancel()
                if approvals:  # asked with buttons, not said twice
                    event = event.model_copy(
                        update={
                            "full_response": without_approval(event.full_response, approvals[0])
                        }
                    )
                await _done(out, stream, event, voice)
                for approval in approvals:
                    await _ask(out, approval)
                return
            elif isinstance(event, ErrorEvent):
                typing.cancel()
                await stream.finish()
                await notify(out, f"⚠️ AION could not answer: {event.message}")
                return
    finally:
        typing.cancel()
        await stream.abandon()


async def _done(out: ChatOut, stream: ReplyStream, done: DoneEvent, voice: bool) -> None:
    text = done.full_response.strip()
    audio = next(
        (b for b in done.response_blocks if isinstance(b, AudioBlock) and b.format == "ogg"), None
    )
    spoken = False
    if voice and audio is not None:
        spoken = await _send_voice(out, audio)
    show_text = not spoken or len(text) > VOICE_WITH_TEXT_CHARS
    if show_text and (text or not done.approval_pending):
        await stream.finish(text or ("(cancelled)" if done.cancelled else "(no answer)"))
    for block in done.response_blocks:
        if isinstance(block, ImageBlock) and block.url.startswith(("https://", "http://")):
            with contextlib.suppress(TelegramError):
                await out.outbox.send(
                    out.chat_id, partial(out.bot.send_photo, out.chat_id, block.url)
                )


async def _send_voice(out: ChatOut, audio: AudioBlock) -> bool:
    try:
        data = await out.api.audio(audio.url)
        await out.outbox.send(
            out.chat_id, lambda: out.bot.send_voice(out.chat_id, data, filename="answer.ogg")
        )
    except (ApiError, TelegramError, OSError) as exc:
        log.warning("could not send the spoken answer (%s); sending text", exc)
        return False
    return True


async def notify(out: ChatOut, text: str) -> None:
    """A short plain-text message (errors, confirmations); never raises."""
    try:
        await out.outbox.send(out.chat_id, lambda: out.bot.send_message(out.chat_id, text))
    except TelegramError as exc:
        log.warning("could not tell the chat: %s", exc)
