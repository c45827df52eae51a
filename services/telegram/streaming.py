"""One answer in one chat: a message that grows as tokens arrive, then its formatted final form.

While the turn streams, the text so far is shown as plain text in a single message, edited at
most once per `Outbox.interval` (a pump task sends whatever is newest when the chat's slot comes,
so intermediate states are skipped, never queued). At the end the whole answer is formatted
(Markdown → Telegram HTML), split below Telegram's limit, and the streamed message becomes its
first part; only the other parts are new messages. If Telegram rejects the HTML, the answer is
sent again as plain text in the same messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from services.telegram.formatting import strip_to_plain, to_telegram_html
from services.telegram.outbox import Outbox
from services.telegram.splitting import TELEGRAM_LIMIT, split_message, split_plain

log = logging.getLogger("aion.telegram.streaming")

STREAM_SUFFIX = " …"


def _is_not_modified(exc: BadRequest) -> bool:
    return "not modified" in exc.message.lower()


def _is_entity_error(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "parse entities" in text or "unsupported start tag" in text or "can't find end" in text


class ReplyStream:
    def __init__(self, bot: Bot, outbox: Outbox, chat_id: int) -> None:
        self._bot = bot
        self._outbox = outbox
        self.chat_id = chat_id
        self.text = ""
        self.message_ids: list[int] = []  # the messages this answer occupies, in order
        self._shown = ""
        self._changed = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._closing = False

    def add(self, delta: str) -> None:
        self.text += delta
        if self.text.strip():
            self._changed.set()
            if self._pump is None:
                self._pump = asyncio.create_task(self._run_pump())

    async def _run_pump(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await asyncio.sleep(self._outbox.due_in(self.chat_id))
            if self._closing:
                return
            shown = self.text.strip()
            if len(shown) > TELEGRAM_LIMIT - len(STREAM_SUFFIX):
                shown = shown[-(TELEGRAM_LIMIT - len(STREAM_SUFFIX) - 1) :]  # the newest part
            shown += STREAM_SUFFIX
            if shown == self._shown:
                continue
            try:
                await self._put(0, shown, None)
                self._shown = shown
            except BadRequest as exc:
                log.warning("a streamed edit was refused: %s", exc.message)

    async def _stop_pump(self) -> None:
        """Let the pump finish the call it is making (never cancel a send halfway: its message
        would exist without this answer knowing it, and the final text would come twice)."""
        self._closing = True
        self._changed.set()
        if self._pump is not None:
            try:
                await self._pump
            except Exception:
                log.exception("streaming an answer failed; the final text follows")
            self._pump = None

    async def _put(self, index: int, text: str, parse_mode: str | None) -> None:
        """Part `index` of the answer: an edit of a message this answer has, else a new one."""
        if index < len(self.message_ids):
            message_id = self.message_ids[index]
            try:
                await self._outbox.send(
                    self.chat_id,
                    lambda: self._bot.edit_message_text(
                        text, chat_id=self.chat_id, message_id=message_id, parse_mode=parse_mode
                    ),
                )
            except BadRequest as exc:
                if not _is_not_modified(exc):
                    raise
            return
        sent: Message = await self._outbox.send(
            self.chat_id,
            lambda: self._bot.send_message(self.chat_id, text, parse_mode=parse_mode),
        )
        self.message_ids.append(sent.message_id)

    async def finish(self, final_text: str | None = None) -> None:
        """Show the final answer (the streamed text unless `final_text` says otherwise)."""
        await self._stop_pump()
        text = (final_text if final_text is not None else self.text).strip()
        if not text:
            if self.message_ids:  # streamed something that the final answer does not keep
                await self._delete_from(0)
            return
        try:
            await self._show(split_message(to_telegram_html(text)), ParseMode.HTML)
        except BadRequest as exc:
            if not _is_entity_error(exc):
                raise
            log.warning("Telegram refused the formatted answer (%s); sending it as plain text", exc)
            await self._show(split_plain(strip_to_plain(text)), None)

    async def _show(self, parts: list[str], parse_mode: str | None) -> None:
        for index, part in enumerate(parts):
            await self._put(index, part, parse_mode)
        await self._delete_from(len(parts))

    async def _delete_from(self, index: int) -> None:
        """Messages past the answer's last part (a shorter final text) go away."""
        for message_id in self.message_ids[index:]:
            with contextlib.suppress(BadRequest):
                await self._outbox.send(
                    self.chat_id, partial(self._bot.delete_message, self.chat_id, message_id)
                )
        del self.message_ids[index:]

    async def abandon(self) -> None:
        """Stop streaming without a final answer (the turn failed): keep what was shown."""
        await self._stop_pump()
