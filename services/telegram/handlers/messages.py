"""Messages: text, voice notes and audio, photos, documents, and what the bot cannot read."""

from __future__ import annotations

from telegram import Message, Update

from services.telegram.handlers.common import (
    Context,
    admitted,
    chat_out,
    chat_turn,
    runtime,
    submit,
)
from services.telegram.media import (
    CannotRead,
    document_message,
    document_text,
    image_data_url,
    is_readable,
)
from services.telegram.present import notify

UNSUPPORTED = (
    "I can't handle this kind of message yet. Send text, a voice note, a photo, or a text or "
    "PDF document."
)
PHOTO_PROMPT = "What do you see in this picture?"


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
        if not is_readable(name, doc.mime_type):
            await notify(
                out,
                f"I can't read {name} ({doc.mime_type or 'unknown type'}) yet: "
                "send text or PDF documents.",
            )
            return
        if (doc.file_size or 0) > rt.max_file_bytes:
            await notify(out, f"{name} is too large for me to fetch from Telegram.")
            return
        try:
            data = await _download(message, doc.file_id)
            content = document_text(data, name, doc.mime_type, rt.max_document_chars)
        except CannotRead as exc:
            await notify(out, str(exc))
            return
        await chat_turn(context, out, document_message(message.caption, name, content))()

    submit(context, out, work)


async def unsupported(update: Update, context: Context) -> None:
    if update.effective_message is None or not await admitted(update, context):
        return
    out = chat_out(update, context)
    submit(context, out, lambda: notify(out, UNSUPPORTED))
