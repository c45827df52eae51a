"""The fake Bot API against python-telegram-bot's real `Bot` and `Application`: the wire format
(JSON answers, form and multipart requests, long polling, errors) is what PTB expects."""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from services.telegram.formatting import to_telegram_html
from services.telegram.splitting import split_message
from tests.faketelegram import FakeTelegram

# PTB 22 warns that durations become timedeltas in a future major version; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 7_000_000_001
OTHER_USER = 7_000_000_002
OGG = b"OggS\x00\x02" + bytes(58) + b"OpusHead" + bytes(100)
_tokens = itertools.count(1)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def token(fake: FakeTelegram) -> str:
    value = f"{8_000_000_000 + next(_tokens)}:AAH-fake-token-{next(_tokens)}"
    fake.add_token(value, "aion_test_bot")
    return value


def make_bot(fake: FakeTelegram, token: str) -> Bot:
    return Bot(token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")


@pytest.fixture
async def bot(fake: FakeTelegram, token: str) -> AsyncIterator[Bot]:
    fake.add_chat(USER)
    async with make_bot(fake, token) as b:
        yield b


async def test_get_me_and_tokens(fake: FakeTelegram, bot: Bot, token: str) -> None:
    me = await bot.get_me()
    assert me.username == "aion_test_bot" and me.is_bot
    assert fake.token_valid(token) and not fake.token_valid("1:nope")
    with pytest.raises(InvalidToken):
        async with make_bot(fake, "123:unknown"):
            pass
    r = httpx.post(f"{fake.url}/bot123:unknown/getMe")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    r = httpx.post(f"{fake.url}/bot{token}/noSuchMethod")
    assert r.status_code == 404 and r.json()["ok"] is False


async def test_send_edit_delete(fake: FakeTelegram, bot: Bot, token: str) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Approve", callback_data="ap:1")]])
    sent = await bot.send_message(
        USER, "<b>Hello</b> &amp; bye", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert sent.text == "Hello & bye" and sent.chat.id == USER
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 5
    second = await bot.send_message(USER, "plain")
    assert second.message_id == sent.message_id + 1

    await bot.edit_message_text("<b>Hello</b> again", USER, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>Hello</b> again", USER, sent.message_id, parse_mode="HTML")
    await bot.delete_message(USER, second.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, second.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999_999)
    assert await bot.send_chat_action(USER, "typing")

    first, other = fake.chat_messages(USER, token)
    assert first.text == "<b>Hello</b> again" and first.plain == "Hello again"
    assert first.parse_mode == "HTML" and len(first.edits) == 1
    assert first.reply_markup is None  # the edit sent no keyboard, so the buttons went away
    assert other.deleted and not first.deleted
    params = fake.calls("sendMessage", token)[0].params
    assert params["chat_id"] == USER and params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Approve",
        "callback_data": "ap:1",
    }


async def test_html_and_length_checked_like_telegram(bot: Bot) -> None:
    for bad in ("<b>open", "<b>x</i>", "<script>x</script>", "a &nbsp; b", "1 < 2"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, bad, parse_mode="HTML")
    await bot.send_message(USER, "1 < 2 and <b>", parse_mode=None)  # no parse mode: just text
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    await bot.send_message(USER, "x" * 4096)
    # Tags and entities do not count, only the text after parsing does.
    await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(9_999_999_999, "who?")


async def test_formatted_long_answer_goes_through_in_chunks(
    fake: FakeTelegram, bot: Bot, token: str
) -> None:
    code = "\n".join(f"print({i}) # <tag> & more" for i in range(400))
    markdown = "# Report\n\n" + "**Bold** and _it_ text. " * 300 + f"\n\n```python\n{code}\n```\n"
    chunks = split_message(to_telegram_html(markdown))
    assert len(chunks) > 3
    for chunk in chunks:
        await bot.send_message(USER, chunk, parse_mode="HTML")
    assert len(fake.chat_messages(USER, token)) == len(chunks)


async def test_injected_failures(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "throttled")
    assert info.value.retry_after in (3, dtm.timedelta(seconds=3))
    fake.fail_next("editMessageText", status=400, description="Bad Request: something odd")
    msg = await bot.send_message(USER, "ok now")
    with pytest.raises(BadRequest, match=r"(?i)something odd"):
        await bot.edit_message_text("new", USER, msg.message_id)
    await bot.edit_message_text("new", USER, msg.message_id)
    r = httpx.post(f"{fake.url}/bot{bot.token}/sendMessage", json={"chat_id": USER, "text": "x"})
    assert r.status_code == 200
    fake.fail_next("sendMessage", retry_after=7, token="1:another-bot")
    await bot.send_message(USER, "another bot's failure is not ours")
    fake.fail_next("sendMessage", retry_after=7)
    r = httpx.post(f"{fake.url}/bot{bot.token}/sendMessage", json={"chat_id": USER, "text": "x"})
    assert r.status_code == 429
    assert r.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


async def test_json_and_form_bodies(fake: FakeTelegram, token: str) -> None:
    fake.add_chat(USER)
    async with httpx.AsyncClient(base_url=f"{fake.url}/bot{token}") as client:
        r = await client.post("/sendMessage", json={"chat_id": USER, "text": "123"})
        assert r.json()["result"]["text"] == "123"
        r = await client.post("/sendMessage", data={"chat_id": str(USER), "text": "456"})
        assert r.json()["result"]["text"] == "456"  # a numeric text stays a string
        r = await client.get("/getMe")
        assert r.json()["ok"]


async def test_uploads_and_downloads(fake: FakeTelegram, bot: Bot, token: str) -> None:
    sent = await bot.send_voice(USER, OGG, duration=2, filename="answer.ogg", caption="Long text")
    assert sent.voice is not None and sent.voice.duration == 2 and sent.caption == "Long text"
    call = fake.calls("sendVoice", token)[0]
    assert call.params["voice"] == OGG and call.uploads["voice"].filename == "answer.ogg"
    voice = fake.chat_messages(USER, token)[-1]
    assert (
        voice.kind == "voice" and voice.upload is not None and voice.upload.data.startswith(b"OggS")
    )
    doc = await bot.send_document(USER, b"hello file", filename="notes.txt")
    assert doc.document is not None and doc.document.file_name == "notes.txt"
    await bot.send_audio(USER, b"ID3mp3", filename="a.mp3")
    await bot.send_photo(USER, b"\x89PNG fake")
    # A file the bot sent can be sent again by id, and fetched.
    again = await bot.send_voice(USER, sent.voice.file_id)
    assert again.voice is not None
    file = await bot.get_file(sent.voice.file_id)
    assert bytes(await file.download_as_bytearray()) == OGG
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_user_media_updates(fake: FakeTelegram, bot: Bot, token: str) -> None:
    fake.send_voice(token, USER, USER, OGG, duration=3)
    fake.send_photo(token, USER, USER, b"JPEGDATA", caption="look")
    fake.send_document(token, USER, USER, "doc.pdf", "application/pdf", b"%PDF-1.4")
    fake.send_audio(token, USER, USER, b"ID3", 5)
    voice, photo, doc, audio = await bot.get_updates(timeout=0)
    assert voice.message is not None and voice.message.voice is not None
    assert voice.message.voice.duration == 3 and voice.message.from_user is not None
    assert voice.message.from_user.id == USER
    data = await (await voice.message.voice.get_file()).download_as_bytearray()
    assert bytes(data) == OGG
    assert photo.message is not None and photo.message.caption == "look"
    sizes = photo.message.photo
    assert len(sizes) > 1 and sizes[-1].width == 1280
    assert bytes(await (await sizes[-1].get_file()).download_as_bytearray()) == b"JPEGDATA"
    assert doc.message is not None and doc.message.document is not None
    assert doc.message.document.mime_type == "application/pdf"
    assert audio.message is not None and audio.message.audio is not None


async def test_commands(fake: FakeTelegram, bot: Bot, token: str) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("reset", "Forget this chat")])
    commands = await bot.get_my_commands()
    assert [c.command for c in commands] == ["start", "reset"]
    assert fake.commands(token)[1]["description"] == "Forget this chat"
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Bad Command", "x")])


async def test_long_polling(fake: FakeTelegram, bot: Bot, token: str) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3

    async def soon() -> None:  # the owner writes while the bot's long poll is held
        await fake.async_wait_for(lambda: fake.polling(token))
        fake.send_text(token, USER, USER, "/start now", username="owner")

    started = time.monotonic()
    task = asyncio.create_task(soon())
    (update,) = await bot.get_updates(timeout=10)
    await task
    assert time.monotonic() - started < 2  # answered when the update came, not at the timeout
    assert update.message is not None and update.message.text == "/start now"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.from_user is not None and update.message.from_user.username == "owner"
    # Unconfirmed updates come again; an offset past them confirms them.
    (again,) = await bot.get_updates(timeout=0)
    assert again.update_id == update.update_id
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert fake.pending_updates(token) == 0

    fake.send_text(token, USER, USER, "a message")
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == ()
    assert fake.pending_updates(token) == 0  # not wanted, so never created
    assert fake.poll_count(token) == 5


async def test_two_pollers_conflict(fake: FakeTelegram, bot: Bot, token: str) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.async_wait_for(lambda: fake.polling(token))
    async with make_bot(fake, token) as second:
        newer = asyncio.create_task(second.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first  # Telegram ends the request held open; the newcomer takes over
        assert await newer == ()
    assert fake.conflicts(token) == 1 and not fake.polling(token)

    strict = FakeTelegram(conflict="reject_newer")
    with strict:
        strict.add_token(token)
        async with make_bot(strict, token) as one, make_bot(strict, token) as two:
            held = asyncio.create_task(one.get_updates(timeout=1))
            await strict.async_wait_for(lambda: strict.polling(token))
            with pytest.raises(Conflict):
                await two.get_updates(timeout=1)
            assert await held == ()


async def test_webhook_blocks_polling(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


class Hook(BaseHTTPRequestHandler):
    """A webhook endpoint: the first POST fails with 500, the rest are taken."""

    received: list[tuple[dict[str, Any], str | None]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((body, self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.send_response(500 if len(self.received) == 1 else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_webhook_delivery_in_order_with_retry(
    fake: FakeTelegram, bot: Bot, token: str
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        first = fake.send_text(token, USER, USER, "one")
        second = fake.send_text(token, USER, USER, "two")
        # The fake records a delivery once the hook has answered: wait for both sides.
        await fake.async_wait_for(
            lambda: len(Hook.received) == 3 and len(fake.webhook_deliveries(token)) == 3
        )
        ids = [body["update_id"] for body, _ in Hook.received]
        assert ids == [first["update_id"], first["update_id"], second["update_id"]]
        assert Hook.received[2][0]["message"]["text"] == "two"
        assert {secret for _, secret in Hook.received} == {"s3cret"}
        assert [d.status for d in fake.webhook_deliveries(token)] == [500, 200, 200]
        assert fake.pending_updates(token) == 0
        assert await bot.delete_webhook()
        fake.send_text(token, USER, USER, "three")
        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "three"
    finally:
        server.shutdown()


async def test_application_polls_answers_buttons_and_sends_voice(
    fake: FakeTelegram, token: str
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Approve", callback_data="approve:42")]]
        )
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Run</b> the tool?",
            parse_mode="HTML",
            reply_markup=keyboard,
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Approved")
        await query.edit_message_text(f"Approved ({query.data})")
        await context.bot.send_voice(query.message.chat.id, OGG, duration=1)

    async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper(), do_quote=True)

    app = (
        Application.builder()
        .token(token)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        await app.start()
        try:
            fake.send_text(token, USER, USER, "/start")
            asked = await fake.async_wait_for(
                lambda: [m for m in fake.chat_messages(USER, token) if m.reply_markup]
            )
            fake.press_button(token, USER, USER, asked[0].message_id, "approve:42")
            voice = await fake.async_wait_for(
                lambda: [m for m in fake.chat_messages(USER, token) if m.kind == "voice"]
            )
            assert voice[0].upload is not None and voice[0].upload.data == OGG
            fake.send_text(token, USER, USER, "hello")
            await fake.async_wait_for(
                lambda: any(m.text == "HELLO" for m in fake.chat_messages(USER, token))
            )
        finally:
            await app.updater.stop()
            await app.stop()
    messages = fake.chat_messages(USER, token)
    assert messages[0].text == "Approved (approve:42)" and messages[0].reply_markup is None
    assert messages[0].edits[0].text == "Approved (approve:42)"
    (answer_call,) = fake.calls("answerCallbackQuery", token)
    answer = fake.callback_answer(answer_call.params["callback_query_id"])
    assert answer is not None and answer["answered"] and answer["text"] == "Approved"
    assert messages[-1].text == "HELLO" and messages[-1].reply_to is not None
    assert all(c.ok for c in fake.calls(token=token)), [
        c for c in fake.calls(token=token) if not c.ok
    ]
    assert fake.pending_updates(token) == 0 and not fake.polling(token)
