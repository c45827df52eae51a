"""The bot's handlers: who may talk, what each kind of message becomes, commands and buttons.

Handlers never wait for a turn: they check the allowlist and put the work into the chat's queue
(services/telegram/chats.py). Everything a handler needs is in the `Runtime` it closes over.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from services.telegram.api_client import AionApi, ApiError
from services.telegram.chats import ChatQueues
from services.telegram.media import CannotRead, Transcriber, image_data_url
from services.telegram.outbox import Outbox
from services.telegram.present import APPROVE, DENY, ChatOut, notify, present
from shared.events import APPROVAL_ID
from shared.telegram import chat_channel

log = logging.getLogger("aion.telegram.bot")

Context = ContextTypes.DEFAULT_TYPE
COMMANDS = [
    BotCommand("start", "Say hello and show what AION can do here"),
    BotCommand("reset", "Start this chat's history afresh"),
    BotCommand("model", "Show the model, or switch: /model <name>"),
    BotCommand("status", "How AION is doing"),
    BotCommand("help", "How to use AION in Telegram"),
]
HELP = (
    "<b>AION</b>, your own assistant.\n\n"
    "Write to me as you would to a person. You can also send voice notes (I answer by voice), "
    "photos, and documents (PDF, Word, Excel, PowerPoint, OpenDocument, HTML, Markdown, text, "
    "CSV, JSON). When I want to do something risky I ask first: press "
    "Approve or Deny.\n\n"
    "/reset starts this chat afresh · /model shows or switches the model · /status"
)
UNKNOWN_USER = (
    "This is a private AION assistant. Your Telegram user id is <code>{id}</code>: "
    "give it to the owner if you should be let in."
)
UNSUPPORTED = (
    "I can't handle this kind of message yet. Send text, a voice note, a photo, or a document "
    "(PDF, Word, Excel, PowerPoint, OpenDocument, HTML, Markdown, text, CSV, JSON)."
)
PHOTO_PROMPT = "What do you see in this picture?"
DOCUMENT_PROMPT = "Here is a file."
MAX_TOLD_UNKNOWN = 10_000


@dataclass
class Runtime:
    """What the handlers use; `allowed_ids` and `transcriber` change with the configuration."""

    api: AionApi
    outbox: Outbox
    queues: ChatQueues
    allowed_ids: frozenset[int] = frozenset()
    group_chats: frozenset[int] = frozenset()
    transcriber: Transcriber = field(default_factory=lambda: Transcriber(None, None))
    max_file_bytes: int = 20 * 1024 * 1024  # what the Bot API lets a bot download
    file_wait_seconds: float = 120.0
    told_unknown: set[int] = field(default_factory=set)


def build_application(runtime: Runtime, token: str, base_url: str | None) -> Application:  # type: ignore[type-arg]
    builder = Application.builder().token(token).concurrent_updates(False)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    app = builder.build()
    Handlers(runtime).install(app)
    return app


class Handlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        commands: dict[str, Callable[[Update, Context], Coroutine[Any, Any, None]]] = {
            "start": self.help,
            "help": self.help,
            "reset": self.reset,
            "model": self.model,
            "status": self.status,
        }
        for name, handler in commands.items():
            app.add_handler(CommandHandler(name, handler))
        app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, self.voice))
        app.add_handler(MessageHandler(filters.PHOTO, self.photo))
        app.add_handler(MessageHandler(filters.Document.ALL, self.document))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.text))
        app.add_handler(MessageHandler(filters.COMMAND, self.help))
        app.add_handler(MessageHandler(filters.ALL, self.unsupported))
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_error_handler(self.error)

    # -- the gate ---------------------------------------------------------------------------

    async def admitted(self, update: Update) -> bool:
        """Allowed users pass in private chats and in the groups the owner listed; anyone else
        is told their id once, and nothing else. In any other group the bot says nothing: its
        answers would be read by everyone there."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return False
        if chat.type != ChatType.PRIVATE and chat.id not in self.rt.group_chats:
            log.info(
                "a message in a group chat not allowed", extra={"channel": chat_channel(chat.id)}
            )
            if update.callback_query is not None:
                await update.callback_query.answer("AION does not answer in this chat.")
            return False
        if user.id in self.rt.allowed_ids:
            return True
        log.info(
            "a message from a user who is not allowed", extra={"channel": chat_channel(chat.id)}
        )
        if update.callback_query is not None:
            await update.callback_query.answer("You are not allowed to do this.")
        elif user.id not in self.rt.told_unknown and update.effective_message is not None:
            if len(self.rt.told_unknown) >= MAX_TOLD_UNKNOWN:
                self.rt.told_unknown.clear()
            self.rt.told_unknown.add(user.id)
            await update.effective_message.reply_text(
                UNKNOWN_USER.format(id=user.id), parse_mode=ParseMode.HTML
            )
        return False

    def out(self, update: Update, context: Context) -> ChatOut:
        assert update.effective_chat is not None
        return ChatOut(context.bot, self.rt.outbox, self.rt.api, update.effective_chat.id)

    def submit(self, out: ChatOut, work: Callable[[], Awaitable[None]]) -> None:
        self.rt.queues.submit(out.chat_id, work)

    def chat_turn(
        self,
        out: ChatOut,
        message: str,
        *,
        images: list[str] | None = None,
        files: list[str] | None = None,
        voice: bool = False,
    ) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            events = self.rt.api.chat(
                message, chat_channel(out.chat_id), images=images, files=files, voice=voice
            )
            try:
                await present(out, events, voice=voice)
            except ApiError as exc:  # refused before the turn started (input, a store down)
                await notify(out, f"⚠️ AION could not take that: {exc.detail}")

        return work

    # -- messages ---------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.text or not await self.admitted(update):
            return
        out = self.out(update, context)
        self.submit(out, self.chat_turn(out, message.text))

    async def voice(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self.admitted(update):
            return
        media = message.voice or message.audio
        if media is None:
            return
        out = self.out(update, context)
        name = getattr(media, "file_name", None) or "voice.ogg"

        async def work() -> None:
            if (media.file_size or 0) > self.rt.max_file_bytes:
                await notify(out, "That recording is too large for me to fetch from Telegram.")
                return
            try:
                audio = await self._download(message, media.file_id)
                text = await self.rt.transcriber.transcribe(audio, name)
            except CannotRead as exc:
                await notify(out, str(exc))
                return
            await self.chat_turn(out, text, voice=True)()

        self.submit(out, work)

    async def photo(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.photo or not await self.admitted(update):
            return
        out = self.out(update, context)
        largest = max(message.photo, key=lambda p: p.width * p.height)

        async def work() -> None:
            if (largest.file_size or 0) > self.rt.max_file_bytes:
                await notify(out, "That picture is too large for me to fetch from Telegram.")
                return
            data = await self._download(message, largest.file_id)
            prompt = (message.caption or "").strip() or PHOTO_PROMPT
            await self.chat_turn(out, prompt, images=[image_data_url(data)])()

        self.submit(out, work)

    async def document(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.document is None or not await self.admitted(update):
            return
        out = self.out(update, context)
        doc = message.document
        name = doc.file_name or "document"

        async def work() -> None:
            if (doc.file_size or 0) > self.rt.max_file_bytes:
                await notify(out, f"{name} is too large for me to fetch from Telegram.")
                return
            data = await self._download(message, doc.file_id)
            channel = chat_channel(out.chat_id)
            try:
                stored = await self.rt.api.upload_file(
                    name, data, channel, self.rt.file_wait_seconds
                )
            except ApiError as exc:
                await notify(out, f"I can't read {name}: {exc.detail}")
                return
            if stored.get("status") != "ready":
                await notify(out, f"{name} is taking long to read; send it again in a minute.")
                return
            prompt = (message.caption or "").strip() or DOCUMENT_PROMPT
            await self.chat_turn(out, prompt, files=[str(stored["id"])])()

        self.submit(out, work)

    async def unsupported(self, update: Update, context: Context) -> None:
        if update.effective_message is None or not await self.admitted(update):
            return
        out = self.out(update, context)
        self.submit(out, lambda: notify(out, UNSUPPORTED))

    async def _download(self, message: Message, file_id: str) -> bytes:
        file = await message.get_bot().get_file(file_id)
        return bytes(await file.download_as_bytearray())

    # -- commands ---------------------------------------------------------------------------

    async def help(self, update: Update, context: Context) -> None:
        if not await self.admitted(update):
            return
        out = self.out(update, context)
        self.submit(out, lambda: self._html(out, HELP))

    async def reset(self, update: Update, context: Context) -> None:
        if not await self.admitted(update):
            return
        out = self.out(update, context)

        async def work() -> None:
            await self.rt.api.reset(chat_channel(out.chat_id))
            await notify(out, "Done: this chat starts afresh.")

        self.submit(out, work)

    async def model(self, update: Update, context: Context) -> None:
        if not await self.admitted(update):
            return
        out = self.out(update, context)
        wanted = " ".join(context.args or []).strip()

        async def work() -> None:
            if not wanted:
                current = (await self.rt.api.config()).get("model")
                await self._html(
                    out,
                    f"Model: <code>{html.escape(str(current))}</code>\nSwitch: /model &lt;name&gt;",
                )
                return
            try:
                answer = await self.rt.api.set_model(wanted)
            except ApiError as exc:
                await notify(out, f"Could not switch: {exc.detail}")
                return
            await self._html(
                out,
                f"Model set to <code>{html.escape(str(answer.get('model')))}</code> "
                f"({html.escape(str(answer.get('provider')))}).",
            )

        self.submit(out, work)

    async def status(self, update: Update, context: Context) -> None:
        if not await self.admitted(update):
            return
        out = self.out(update, context)

        async def work() -> None:
            s = await self.rt.api.status()
            e = {k: html.escape(str(v)) for k, v in s.items()}
            workers = html.escape(str(s.get("services", {}).get("workers")))
            hours = int(s.get("uptime", 0)) // 3600
            await self._html(
                out,
                f"<b>AION {e.get('version')}</b>: {e.get('status')}\n"
                f"Model: <code>{e.get('model')}</code>\n"
                f"Memories: {e.get('memory_entries')} · workers: {workers} · up {hours} h",
            )

        self.submit(out, work)

    async def _html(self, out: ChatOut, text: str) -> None:
        await out.outbox.send(
            out.chat_id, lambda: out.bot.send_message(out.chat_id, text, parse_mode=ParseMode.HTML)
        )

    # -- approval buttons -------------------------------------------------------------------

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self.admitted(update):
            return
        verb, _, approval_id = (query.data or "").partition(":")
        # The id goes into an api path: only the worker's own shape is accepted, never a path.
        if verb not in (APPROVE, DENY) or not APPROVAL_ID.fullmatch(approval_id):
            await query.answer("This button is not one of AION's.")
            return
        approve = verb == APPROVE
        await query.answer("Approved" if approve else "Denied")
        out = self.out(update, context)
        if query.message is not None:
            try:
                await context.bot.edit_message_reply_markup(
                    out.chat_id, query.message.message_id, reply_markup=None
                )
            except TelegramError as exc:
                log.info("could not take the buttons off the approval: %s", exc)

        async def work() -> None:
            try:
                if approve:
                    await notify(out, "✅ Approved.")
                    await present(out, self.rt.api.decide(approval_id, True))
                else:
                    async for _ in self.rt.api.decide(approval_id, False):
                        pass
                    await notify(out, "❌ Denied: AION will not do it.")
            except ApiError as exc:
                if exc.status in (404, 409):
                    await notify(out, f"That approval can no longer be decided: {exc.detail}")
                    return
                raise

        self.submit(out, work)

    async def error(self, update: object, context: Context) -> None:
        log.error("a Telegram update failed: %s", context.error, exc_info=context.error)


async def register_commands(app: Application) -> None:  # type: ignore[type-arg]
    await app.bot.set_my_commands(COMMANDS)
