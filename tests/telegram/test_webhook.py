"""Webhook mode: Telegram posts updates to the service, which checks the secret header."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.faketelegram import FakeTelegram
from tests.stack import Service, Stack, free_port
from tests.telegram.conftest import OWNER_IDS, set_config, wait_polling
from tests.telegram.tokens import bot_token

TOKEN = bot_token(20)


@pytest.fixture(scope="module")
def webhook_bot(stack: Stack) -> Iterator[tuple[FakeTelegram, Service]]:
    with FakeTelegram() as fake:
        fake.add_token(TOKEN, "aion_hook_bot")
        set_config(stack, {"token": TOKEN, "allowed_ids": OWNER_IDS})
        port = free_port()
        service = stack.start_telegram(
            {
                "TELEGRAM_API_BASE_URL": f"{fake.url}/bot",
                "AION_TELEGRAM_HEALTH_PORT": str(port),
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
            }
        )
        try:
            wait_polling(stack)
            yield fake, service
        finally:
            service.stop()
            set_config(stack, {"token": None, "allowed_ids": []})


async def test_updates_arrive_by_webhook_with_the_secret_checked(
    webhook_bot: tuple[FakeTelegram, Service],
) -> None:
    fake, service = webhook_bot
    (registered,) = fake.calls("setWebhook", token=TOKEN)
    secret = registered.params["secret_token"]
    assert registered.params["url"].endswith("/telegram/webhook") and len(secret) >= 32
    assert TOKEN.split(":")[1] not in secret
    assert fake.calls("getUpdates", token=TOKEN) == []  # no polling in webhook mode

    chat = OWNER_IDS[15]
    fake.send_text(TOKEN, chat, chat, "hello by hook")
    await fake.async_wait_for(
        lambda: any(
            "You said: hello by hook" in m.plain and m.parse_mode == "HTML"
            for m in fake.chat_messages(chat)
        ),
        30,
    )
    assert all(d.headers.get("X-Telegram-Bot-Api-Secret-Token") == secret
               for d in fake.webhook_deliveries(TOKEN))  # fmt: skip

    # Anyone else posting to the webhook is turned away, and nothing runs.
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "X"},
            "text": "forged",
        },
    }
    async with httpx.AsyncClient(base_url=service.url) as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            response = await http.post("/telegram/webhook", json=update, headers=headers)
            assert response.status_code == 403
        bad = await http.post(
            "/telegram/webhook",
            content=b"not json",
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        )
        assert bad.status_code == 400
