"""Messages: text, voice notes and audio, photos, documents, and what the bot cannot read."""

from __future__ import annotations

from telegram import Message, Update

from services.telegram.api_client import ApiError
from services.telegram.handlers.common import (
    Context,
    admitted,
    chat_out,
    chat_turn,
    runtime,
    submit,
)
from services.telegram.media import CannotRead, image_data_url
from services.telegram.present import notify
from shared.telegram import chat_channel

UNSUPPORTED = (
    "I can't handle this kind of message yet. Send text, a voice note, a photo, or a document "
    "(PDF, Word, Excel, PowerPoint, OpenDocument, HTML, Markdown, text, CSV, JSON)."
)
PHOTO_PROMPT = "What do you see in this picture?"
DOCUMENT_PROMPT = "Here is a file."


async def _download(message: Message, file_id: str) -> bytes:
    file = await message.get_bot().get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text or not await admitted(update, context):
        return
    out = chat_out(update, context)
    submit(context, out, chat_turn(context, out, message.text))


async def voice(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not await admitted(update, context):
        return
    media = message.voice or message.audio
    if media is None:
        return
    out, rt = chat_out(update, context), runtime(context)
    name = getattr(media, "file_name", None) or "voice.ogg"

    async def work() -> None:
        if (media.file_size or 0) > rt.max_file_bytes:
            await notify(out, "That recording is too large for me to fetch from Telegram.")
            return
        try:
            audio = await _download(message, media.file_id)
            said = await rt.transcriber.transcribe(audio, name)
        except CannotRead as exc:
            await notify(out, str(exc))
            return
        await chat_turn(context, out, said, voice=True)()

    submit(context, out, work)


async def photo(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.photo or not await admitted(update, context):
        return
    out, rt = chat_out(update, context), runtime(context)
    largest = max(message.photo, key=lambda p: p.width * p.height)

    async def work() -> None:
        if (largest.file_size or 0) > rt.max_file_bytes:
            await notify(out, "That picture is too large for me to fetch from Telegram.")
            return
        data = await _download(message, largest.file_id)
        prompt = (message.caption or "").strip() or PHOTO_PROMPT
        await chat_turn(context, out, prompt, images=[image_data_url(data)])()

    submit(context, out, work)


async def document(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.document is None or not await admitted(update, context):
        return
    out, rt = chat_out(update, context), runtime(context)
    doc = message.document
    name = doc.file_name or "document"

    async def work() -> None:
        if (doc.file_size or 0) > rt.max_file_bytes:
            await notify(out, f"{name} is too large for me to fetch from Telegram.")
            return
        data = await _download(message, doc.file_id)
        channel = chat_channel(out.chat_id)
        try:
            # The api reads it (POST /api/files), as for any client: the bot parses nothing.
            stored = await rt.api.upload_file(name, data, channel, rt.file_wait_seconds)
        except ApiError as exc:
            await notify(out, f"I can't read {name}: {exc.detail}")
            return
        if stored.get("status") != "ready":
            await notify(out, f"{name} is taking long to read; send it again in a minute.")
            return
        prompt = (message.caption or "").strip() or DOCUMENT_PROMPT
        await chat_turn(context, out, prompt, files=[str(stored["id"])])()

    submit(context, out, work)


async def unsupported(update: Update, context: Context) -> None:
    if update.effective_message is None or not await admitted(update, context):
        return
    out = chat_out(update, context)
    submit(context, out, lambda: notify(out, UNSUPPORTED))
