"""The telegram service against a fake Bot API server and the real api + worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import API_TOKEN
from tests.faketelegram import FakeTelegram
from tests.stack import Service, Stack
from tests.telegram.tokens import bot_token

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TOKEN = bot_token(10)
# Allowed users; a private chat's id is its user's id. Each test talks in chats of its own.
OWNER_IDS = [7_000_000_101 + i for i in range(24)]
STRANGER = 7_900_000_001


@dataclass
class Bot:
    fake: FakeTelegram
    stack: Stack
    service: Service
    token: str

    def config(self) -> dict[str, object]:
        response = httpx.get(f"{self.stack.api_url}/api/telegram/config", headers=AUTH)
        body: dict[str, object] = response.json()
        return body


def set_config(stack: Stack, body: dict[str, object]) -> dict[str, object]:
    response = httpx.post(
        f"{stack.api_url}/api/telegram/config", json=body, headers=AUTH, timeout=30
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def wait_polling(stack: Stack, active: bool = True, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{stack.api_url}/api/telegram/config", headers=AUTH).json()
        if body["polling_active"] is active:
            return
        time.sleep(0.1)
    raise TimeoutError(f"polling_active did not become {active}")


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.add_token(TOKEN, "aion_test_bot")
        yield fake


@pytest.fixture(scope="module")
def bot(stack: Stack, fake_telegram: FakeTelegram) -> Iterator[Bot]:
    set_config(stack, {"token": TOKEN, "allowed_ids": OWNER_IDS})
    service = stack.start_telegram(
        {
            "TELEGRAM_API_BASE_URL": f"{fake_telegram.url}/bot",
            "AION_TELEGRAM_POLL_SECONDS": "1",
        }
    )
    try:
        wait_polling(stack)
        yield Bot(fake_telegram, stack, service, TOKEN)
    finally:
        service.stop()
        set_config(stack, {"token": None, "allowed_ids": []})
