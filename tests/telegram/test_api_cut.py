"""The telegram service cut off from the api (the api stopped, then started again on its port):
a message that could not be handed over gets a clear reply saying so, an answer cut half-way
is resumed once the api is back and arrives whole, once, and the bot goes on."""

from __future__ import annotations

import httpx

from shared.telegram import chat_channel
from tests.helpers import eventually
from tests.stack import api_ready
from tests.telegram.conftest import OWNER_IDS, Bot, wait_polling
from tests.telegram.test_bot import answered, texts


def restart_api(bot: Bot) -> None:
    assert bot.stack.api is not None
    if bot.stack.api.alive():
        bot.stack.api.stop()
    bot.stack.start_api()
    wait_polling(bot.stack)


async def test_a_message_sent_while_the_api_is_down_gets_a_clear_reply(bot: Bot) -> None:
    chat = OWNER_IDS[18]
    assert bot.stack.api is not None
    try:
        bot.stack.api.stop()
        bot.fake.send_text(bot.token, chat, chat, "hello while you sleep")
        (reply,) = await bot.fake.async_wait_for(
            lambda: [m for m in texts(bot, chat) if "⚠️" in m.plain], 60
        )
        assert "not taken" in reply.plain and "send it again" in reply.plain, reply.plain
    finally:
        restart_api(bot)
    bot.fake.send_text(bot.token, chat, chat, "and now?")
    await answered(bot, chat, "You said: and now?", timeout=60)
    assert bot.service.alive()


async def test_an_answer_cut_by_an_api_restart_arrives_whole_once(
    bot: Bot, client: httpx.AsyncClient
) -> None:
    chat = OWNER_IDS[19]
    bot.fake.send_text(bot.token, chat, chat, "[[tokens=150 gap=40]]")
    # The answer is streaming into the chat's message (edited as it grows).
    await bot.fake.async_wait_for(lambda: [m for m in texts(bot, chat) if "t3" in m.plain], 30)
    try:
        assert bot.stack.api is not None
        bot.stack.api.stop()
        assert not api_ready(bot.stack.api_url)
    finally:
        restart_api(bot)
    answer = "".join(f"t{i} " for i in range(150)).strip()
    messages = await answered(bot, chat, "t149", timeout=60)
    assert not [m for m in messages if "⚠️" in m.plain], [m.plain for m in messages]
    assert "".join(m.plain for m in messages).split() == answer.split()

    async def in_history() -> bool:
        response = await client.get("/api/history", params={"channel": chat_channel(chat)})
        return [m["content"] for m in response.json()["messages"]][-1:] == [answer + " "]

    await eventually(in_history, "the answer in the history")
