"""The Telegram channel end to end: fake Bot API ↔ telegram service ↔ real api + worker."""

from __future__ import annotations

import asyncio
import base64
import itertools

import httpx

from tests import file_samples as samples
from tests.fakellm import FakeLLM
from tests.fakellm.script import last_user_text
from tests.faketelegram import BotMessage
from tests.helpers import history
from tests.sse import iter_events
from tests.telegram.conftest import OWNER_IDS, STRANGER, Bot, set_config
from tests.test_agent import requests_for

EDIT_METHODS = ("sendMessage", "editMessageText", "sendVoice", "deleteMessage")


def texts(bot: Bot, chat: int) -> list[BotMessage]:
    return [m for m in bot.fake.chat_messages(chat) if m.kind == "text" and not m.deleted]


async def answered(bot: Bot, chat: int, needle: str, timeout: float = 30.0) -> list[BotMessage]:
    """Wait until a (final, formatted) bot message in `chat` contains `needle`."""

    def found() -> list[BotMessage]:
        messages = texts(bot, chat)
        done = any(needle in m.plain and m.parse_mode == "HTML" for m in messages)
        return messages if done else []

    return await bot.fake.async_wait_for(found, timeout)


def chat_calls(bot: Bot, chat: int) -> list[float]:
    """When the bot wrote into `chat` (successful or not), in order."""
    return [
        c.at
        for c in bot.fake.calls()
        if c.method in EDIT_METHODS and str(c.params.get("chat_id")) == str(chat)
    ]


async def test_an_unknown_user_is_told_their_id_once_and_nothing_else(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    bot.fake.send_text(bot.token, STRANGER, STRANGER, "hello? [[tokens=3]]")
    bot.fake.send_text(bot.token, STRANGER, STRANGER, "anyone there?")
    (told,) = await bot.fake.async_wait_for(lambda: texts(bot, STRANGER), 10)
    assert str(STRANGER) in told.plain
    # The barrier: updates are handled one at a time, in order, so once an owner's later
    # message is answered, both of the stranger's were dealt with.
    owner = OWNER_IDS[20]
    bot.fake.send_text(bot.token, owner, owner, "barrier after the stranger")
    await answered(bot, owner, "You said: barrier after the stranger")
    assert len(texts(bot, STRANGER)) == 1
    assert await history(client, f"telegram:{STRANGER}") == []  # no turn ran


async def test_the_answer_streams_into_one_message_edited_about_once_a_second(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    chat = OWNER_IDS[0]
    bot.fake.send_text(bot.token, chat, chat, "count [[tokens=40 gap=100]]")
    expected = " ".join(f"t{i}" for i in range(40))
    (message,) = await answered(bot, chat, expected)
    assert message.plain.strip() == expected
    assert len(message.edits) >= 2  # it grew while the tokens came
    assert message.edits[0].text.strip() != expected
    stamps = chat_calls(bot, chat)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps and min(gaps) >= 0.9, gaps
    turns = await history(client, f"telegram:{chat}")
    assert [m["role"] for m in turns] == ["user", "assistant"]


async def test_a_429_is_waited_out_and_nothing_is_lost(bot: Bot) -> None:
    chat = OWNER_IDS[1]
    bot.fake.fail_next("editMessageText", 429, retry_after=2)
    bot.fake.send_text(bot.token, chat, chat, "slowly [[tokens=25 gap=100]]")
    expected = " ".join(f"t{i}" for i in range(25))
    await answered(bot, chat, expected)
    calls = [
        c
        for c in bot.fake.calls()
        if c.method in EDIT_METHODS and str(c.params.get("chat_id")) == str(chat)
    ]
    refused = [i for i, c in enumerate(calls) if c.status == 429]
    assert len(refused) == 1
    after = calls[refused[0] + 1]
    assert after.at - calls[refused[0]].at >= 1.9  # Telegram said 2 s
    assert len(texts(bot, chat)) == 1


async def test_a_long_answer_is_split_below_the_limit(bot: Bot) -> None:
    chat = OWNER_IDS[2]
    bot.fake.send_text(bot.token, chat, chat, "a lot [[tokens=1500]]")
    await answered(bot, chat, "t1499")
    parts = texts(bot, chat)
    assert len(parts) >= 2
    assert all(len(p.plain) <= 4096 and p.parse_mode == "HTML" for p in parts)
    words = " ".join(p.plain for p in parts).split()
    assert words == [f"t{i}" for i in range(1500)]  # every word once, in order


async def test_messages_sent_during_a_turn_are_queued_in_order(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    chat = OWNER_IDS[3]
    bot.fake.send_text(bot.token, chat, chat, "first [[tokens=15 gap=100]]")
    # the first turn is under way (its answer streams into the chat) before the others come
    await bot.fake.async_wait_for(lambda: [m for m in texts(bot, chat) if "t0" in m.plain], 30)
    bot.fake.send_text(bot.token, chat, chat, "second")
    bot.fake.send_text(bot.token, chat, chat, "third")
    await answered(bot, chat, "You said: third")
    finals = [m.plain.strip() for m in texts(bot, chat)]
    assert finals[0].startswith("t0 t1")
    assert finals[1:] == ["You said: second", "You said: third"]
    said = [m["content"] for m in await history(client, f"telegram:{chat}") if m["role"] == "user"]
    assert [s.split(" [[")[0] for s in said] == ["first", "second", "third"]


async def test_approve_and_deny_with_the_inline_buttons(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    chat = OWNER_IDS[4]
    bot.fake.send_text(bot.token, chat, chat, 'do it [[call=risky:{"text":"launch"}]]')
    prompt = await _approval_prompt(bot, chat)
    assert "risky" in prompt.plain and "launch" in prompt.plain
    data = [b["callback_data"] for b in prompt.reply_markup["inline_keyboard"][0]]
    # Somebody else pressing the button changes nothing.
    pressed = bot.fake.press_button(bot.token, STRANGER, chat, prompt.message_id, data[0])
    query_id = pressed["callback_query"]["id"]
    await bot.fake.async_wait_for(  # the barrier: the bot has dealt with that press
        lambda: (bot.fake.callback_answer(query_id) or {}).get("answered"), 15
    )
    assert not any("Approved" in m.plain for m in texts(bot, chat))
    bot.fake.press_button(bot.token, chat, chat, prompt.message_id, data[0])
    await answered(bot, chat, "did:launch")
    # Pressed again: already decided.
    bot.fake.press_button(bot.token, chat, chat, prompt.message_id, data[0])
    await bot.fake.async_wait_for(
        lambda: any("can no longer be decided" in m.plain for m in texts(bot, chat)), 15
    )

    bot.fake.send_text(bot.token, chat, chat, 'again [[call=risky:{"text":"twice"}]]')
    second = await _approval_prompt(bot, chat, after=prompt.message_id)
    deny = second.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot.fake.press_button(bot.token, chat, chat, second.message_id, deny)
    await bot.fake.async_wait_for(lambda: any("Denied" in m.plain for m in texts(bot, chat)), 15)
    # The barrier: a chat's work runs in order, so the denial's turn is over once this is answered.
    bot.fake.send_text(bot.token, chat, chat, "after the denial")
    await answered(bot, chat, "You said: after the denial")
    assert not any("did:twice" in m.plain for m in texts(bot, chat))


async def _approval_prompt(bot: Bot, chat: int, after: int = 0) -> BotMessage:
    def prompt() -> list[BotMessage]:
        return [
            m
            for m in texts(bot, chat)
            if m.message_id > after and m.reply_markup and "Approval needed" in m.plain
        ]

    return (await bot.fake.async_wait_for(prompt, 30))[0]


async def test_commands_are_registered_and_answered(bot: Bot, client: httpx.AsyncClient) -> None:
    names = {c["command"] for c in bot.fake.commands(bot.token)}
    assert names == {"start", "reset", "model", "status", "help"}
    chat = OWNER_IDS[5]
    bot.fake.send_text(bot.token, chat, chat, "remember me")
    await answered(bot, chat, "You said: remember me")
    bot.fake.send_text(bot.token, chat, chat, "/reset")
    await bot.fake.async_wait_for(lambda: any("afresh" in m.plain for m in texts(bot, chat)), 15)
    assert await history(client, f"telegram:{chat}") == []
    bot.fake.send_text(bot.token, chat, chat, "/model")
    await bot.fake.async_wait_for(lambda: any("Model:" in m.plain for m in texts(bot, chat)), 15)
    bot.fake.send_text(bot.token, chat, chat, "/status")
    await bot.fake.async_wait_for(lambda: any("workers" in m.plain for m in texts(bot, chat)), 15)
    bot.fake.send_text(bot.token, chat, chat, "/help")
    await bot.fake.async_wait_for(
        lambda: any("voice notes" in m.plain for m in texts(bot, chat)), 15
    )


async def test_documents_go_through_the_files_api_and_bad_ones_are_refused(
    bot: Bot, client: httpx.AsyncClient, fake_llm: FakeLLM
) -> None:
    chat = OWNER_IDS[6]
    trip = samples.pdf(["Day one: Lisbon", "The boat is called Nimbus and leaves at 7:45."])
    bot.fake.send_document(
        bot.token, chat, chat, "trip.pdf", "application/pdf", trip, caption="When do we sail?"
    )
    await answered(bot, chat, "Nimbus", timeout=60)
    channel = f"telegram:{chat}"
    said = [m["content"] for m in await history(client, channel) if m["role"] == "user"]
    assert said == ["When do we sail?"]  # the file's text went to the model, not the history
    (request,) = requests_for(fake_llm, channel)
    sent = last_user_text(request["messages"])
    assert '<attached_file name="trip.pdf" pages="2">' in sent
    assert "--- page 2 ---\nThe boat is called Nimbus" in sent
    listed = (await client.get("/api/files", params={"limit": 200})).json()["files"]
    (stored,) = [f for f in listed if f["channel"] == channel]
    assert stored["name"] == "trip.pdf" and stored["status"] == "ready"

    bot.fake.send_document(bot.token, chat, chat, "x.zip", "application/zip", b"PK\x03\x04")
    await bot.fake.async_wait_for(
        lambda: any("can't read x.zip: " in m.plain for m in texts(bot, chat)), 30
    )
    secret = samples.pdf(["hidden"], password="pw")
    bot.fake.send_document(bot.token, chat, chat, "locked.pdf", "application/pdf", secret)
    await bot.fake.async_wait_for(
        lambda: any("encrypted with a password" in m.plain for m in texts(bot, chat)), 60
    )


async def test_photos_become_image_inputs(
    bot: Bot, client: httpx.AsyncClient, fake_llm: FakeLLM
) -> None:
    chat = OWNER_IDS[7]
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    bot.fake.send_photo(bot.token, chat, chat, png, caption="what colour is this")
    await answered(bot, chat, "You said: what colour is this")
    images = [
        part["image_url"]["url"]
        for request in fake_llm.requests
        for message in request.get("messages", [])
        if message.get("role") == "user" and isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]
    assert f"data:image/jpeg;base64,{base64.b64encode(png).decode()}" in images


async def test_token_change_restarts_polling_once_without_a_restart(bot: Bot) -> None:
    from tests.telegram.conftest import set_config
    from tests.telegram.tokens import bot_token

    new = bot_token(11)
    bot.fake.add_token(new, "aion_second_bot")
    try:
        answer = set_config(bot.stack, {"token": new})
        assert answer["polling_active"] is True
        await bot.fake.async_wait_for(lambda: bot.fake.polling(new), 10)
        # the old poller is gone
        await bot.fake.async_wait_for(lambda: not bot.fake.polling(bot.token), 10)
        assert bot.fake.conflicts(new) == 0
        assert len(bot.fake.calls("getMe", token=new)) == 1  # started once
        chat = OWNER_IDS[8]
        bot.fake.send_text(new, chat, chat, "on the new bot")
        await bot.fake.async_wait_for(
            lambda: any(
                "You said: on the new bot" in m.plain for m in bot.fake.chat_messages(chat, new)
            ),
            30,
        )
        cleared = set_config(bot.stack, {"token": ""})
        assert cleared["polling_active"] is False
        await bot.fake.async_wait_for(lambda: not bot.fake.polling(new), 10)
        assert bot.service.alive()
    finally:
        assert set_config(bot.stack, {"token": bot.token})["polling_active"] is True


async def test_turns_started_elsewhere_reach_their_chat(
    bot: Bot, client: httpx.AsyncClient, redis_url: str
) -> None:
    from redis.asyncio import Redis

    from shared.telegram import BackgroundTurn, announce_background_turn
    from tests.helpers import chat as chat_turn

    chat, chatty = OWNER_IDS[9], OWNER_IDS[14]
    bot.fake.add_chat(chat)
    set_config(bot.stack, {"owner_chat": chat})
    redis = Redis.from_url(redis_url)
    try:
        # What a reminder does: a turn on the chat's channel, announced, that nobody streams.
        headers, _ = await chat_turn(client, "Reminder: water the plants", f"telegram:{chat}")
        job = headers["X-AION-Job"]
        await announce_background_turn(
            redis, BackgroundTurn(turn_id=job, channel=f"telegram:{chat}")
        )
        await answered(bot, chat, "water the plants")
        # Another chat speaks last; a late Alexa answer still goes to the owner's chosen chat.
        bot.fake.send_text(bot.token, chatty, chatty, "small talk")
        await answered(bot, chatty, "You said: small talk")
        headers, _ = await chat_turn(client, "how tall is the Eiffel tower", "alexa")
        await announce_background_turn(
            redis, BackgroundTurn(turn_id=headers["X-AION-Job"], channel="alexa", to_owner=True)
        )
        await answered(bot, chat, "Eiffel tower")
        assert any("Alexa" in m.plain for m in texts(bot, chat))
        assert not any("Eiffel" in m.plain for m in texts(bot, chatty))
        # The console hears where the Alexa answer went (GET /api/events; 0-0: all kept).
        alexa_job = headers["X-AION-Job"]
        notices = client.stream("GET", "/api/events", headers={"Last-Event-ID": "0-0"})
        async with notices as sse, asyncio.timeout(15):
            async for event in iter_events(sse):
                if event.event == "alexa_to_telegram" and event.data["turn_id"] == alexa_job:
                    break
    finally:
        set_config(bot.stack, {"owner_chat": None})
        await redis.aclose()


async def test_group_chats_are_ignored_unless_the_owner_lists_them(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    owner, group = OWNER_IDS[16], -1_001_000_000_016
    bot.fake.send_text(bot.token, owner, group, "hello group")
    # A barrier: the same user's private message is answered after the group's was handled.
    bot.fake.send_text(bot.token, owner, owner, "hello me")
    await answered(bot, owner, "You said: hello me")
    assert bot.fake.chat_messages(group) == []
    assert await history(client, f"telegram:{group}") == []

    set_config(bot.stack, {"group_chats": [str(group)]})
    try:
        # The service applies the change when told; ask until it answers in the group.
        async def answered_in_group() -> list[BotMessage]:
            bot.fake.send_text(bot.token, owner, group, "anyone?")
            try:
                return await answered(bot, group, "You said: anyone?", timeout=3)
            except TimeoutError:
                return []

        for _ in range(10):
            if await answered_in_group():
                break
        else:
            raise AssertionError("the listed group was never answered")
    finally:
        set_config(bot.stack, {"group_chats": []})


def _voice_note(said: str) -> bytes:
    """A real Ogg/Opus voice note whose metadata carries what the fake transcriber "hears"."""
    import subprocess

    done = subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:a", "libopus", "-ar", "48000", "-metadata", f"comment=TRANSCRIPT:{said};;",
            "-f", "ogg", "-",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return done.stdout


async def test_a_voice_note_is_answered_with_a_voice_note(
    bot: Bot, client: httpx.AsyncClient, tts: object, fresh_settings: None
) -> None:
    await client.post("/api/config/settings", json={"tts_engine": "espeak"})
    chat = OWNER_IDS[10]
    bot.fake.send_voice(bot.token, chat, chat, _voice_note("what is the time"), duration=1)

    def voice() -> list[BotMessage]:
        return [m for m in bot.fake.chat_messages(chat) if m.kind == "voice"]

    (sent,) = await bot.fake.async_wait_for(voice, 60)
    assert sent.upload is not None and sent.upload.data.startswith(b"OggS")
    said = [m["content"] for m in await history(client, f"telegram:{chat}") if m["role"] == "user"]
    assert said == ["what is the time"]
    # The barrier: a chat's work runs in order, so the voice turn is over once this is answered.
    bot.fake.send_text(bot.token, chat, chat, "typed after")
    await answered(bot, chat, "You said: typed after")
    # a short spoken answer comes as voice only
    assert [m.plain.strip() for m in texts(bot, chat)] == ["You said: typed after"]


async def test_rejected_formatting_falls_back_to_plain_text(bot: Bot) -> None:
    chat = OWNER_IDS[11]
    refusal = "Bad Request: can't parse entities: unsupported start tag at byte offset 3"
    bot.fake.fail_next("editMessageText", 400, description=refusal, token=bot.token)
    # Words 300 ms apart: the answer streams into a message first, so its formatted final
    # form is an edit (a fast answer that ends before the first streamed edit is sent whole).
    bot.fake.send_text(bot.token, chat, chat, "[[gap=300]] **bold** words")

    def plain() -> list[BotMessage]:
        return [m for m in texts(bot, chat) if "bold words" in m.plain and m.parse_mode is None]

    (message,) = await bot.fake.async_wait_for(plain, 30)
    assert "**" not in message.plain and "<b>" not in message.text
    assert len(texts(bot, chat)) == 1


async def test_a_failed_turn_is_a_short_message_and_the_bot_goes_on(bot: Bot) -> None:
    chat = OWNER_IDS[12]
    bot.fake.send_text(bot.token, chat, chat, "break [[fail=500]]")
    await bot.fake.async_wait_for(
        lambda: any("could not answer" in m.plain for m in texts(bot, chat)), 30
    )
    bot.fake.send_text(bot.token, chat, chat, "still there?")
    await answered(bot, chat, "You said: still there?")
    assert bot.service.alive()


async def test_a_forged_button_is_refused_before_anything_reaches_the_api(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    """Callback data names an approval by id; a path in its place must never become a request."""
    chat = OWNER_IDS[13]
    bot.fake.send_text(bot.token, chat, chat, "hello")
    (answer, *_) = await answered(bot, chat, "You said: hello")
    forged = ["approve:../plugins/reload", "deny:../../api/keys", f"approve:{'A' * 32}"]
    queries = [
        bot.fake.press_button(bot.token, chat, chat, answer.message_id, data)["callback_query"][
            "id"
        ]
        for data in forged
    ]

    def answers() -> list[str]:
        found = [bot.fake.callback_answer(q) for q in queries]
        return [str(a.get("text")) for a in found if a and a.get("answered")]

    said = await bot.fake.async_wait_for(
        lambda: a if len(a := answers()) == len(forged) else [], 15
    )
    assert said == ["This button is not one of AION's."] * len(forged)
    assert not any("Approved" in m.plain or "Denied" in m.plain for m in texts(bot, chat))


async def test_long_arguments_are_shown_whole_as_a_file_before_the_prompt(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    import json

    chat = OWNER_IDS[17]
    long_text = "word-" * 1000 + "THE-END"  # no spaces: the fake LLM reads one directive
    call = json.dumps({"text": long_text}, separators=(",", ":"))
    bot.fake.send_text(bot.token, chat, chat, f"do it [[call=risky:{call}]]")
    prompt = await _approval_prompt(bot, chat)
    assert "arguments.json" in prompt.plain and len(prompt.plain) < 4096
    (document,) = [
        m for m in bot.fake.chat_messages(chat) if m.kind == "document" and not m.deleted
    ]
    assert document.message_id < prompt.message_id and document.upload is not None
    shown = json.loads(document.upload.data)
    assert shown["tool"] == "risky" and shown["arguments"] == {"text": long_text}
    deny = prompt.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot.fake.press_button(bot.token, chat, chat, prompt.message_id, deny)
    await bot.fake.async_wait_for(lambda: any("Denied" in m.plain for m in texts(bot, chat)), 15)
