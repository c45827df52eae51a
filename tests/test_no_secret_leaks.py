"""No secret in any log or response: a whole stack with every secret set to a value of its own.

api, worker, tts and telegram run as real processes on a Redis with a password and a database
of their own, with every credential and key set to a recognisable random value. The test walks
every GET route of the api, the writes an owner makes (keys, settings, prompts, plugins,
Telegram), chats with tools, an approval and a spoken answer, a Telegram conversation, and bad
requests; then it reads every response and every service's log and looks for each value.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from scripts import localpg, localredis
from services.api.main import create_app
from services.api.settings import ApiSettings
from tests.faketelegram import FakeTelegram
from tests.sse import collect
from tests.stack import Stack, free_port, run_migrations
from tests.telegram.tokens import bot_token

BOT_TOKEN = bot_token(77)
OWNER_CHAT = 7_000_000_777


def _value(label: str) -> str:
    return f"{label}-{secrets.token_hex(20)}"


@pytest.fixture(scope="module")
def secret_values() -> dict[str, str]:
    """Every secret the services may hold, each recognisable in any text."""
    return {
        "AION_API_TOKEN": _value("owner"),
        "AION_SECRET_KEY": Fernet.generate_key().decode(),
        "AION_TELEGRAM_SERVICE_TOKEN": _value("tgservice"),
        "AION_TELEGRAM_HANDOVER_KEY": Fernet.generate_key().decode(),
        "AION_TTS_TOKEN": _value("ttscred"),
        "OPENAI_API_KEY": _value("sk-openai"),
        "ANTHROPIC_API_KEY": _value("sk-ant"),
        "GOOGLE_CLIENT_SECRET": _value("gsecret"),
        "CLAUDE_CODE_OAUTH_TOKEN": _value("sk-ant-oat01"),
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "REDIS_PASSWORD": _value("redispw"),
        "STORED_KEY": _value("sk-stored"),  # saved through POST /api/keys
    }


@pytest.fixture(scope="module")
def leak_stack(
    service_env: dict[str, str],
    database_url: str,
    secret_values: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, FakeTelegram]]:
    root = tmp_path_factory.mktemp("leaks")
    conf = root / "redis.conf"
    conf.write_text(f"requirepass {secret_values['REDIS_PASSWORD']}\n")
    redis_url = localredis.ensure_server(
        conf, secret_values["REDIS_PASSWORD"], root / "redis", free_port()
    )
    admin = localpg.with_database(database_url, "postgres")
    database = localpg.ensure_database(admin, f"aion_leaks_{uuid.uuid4().hex[:8]}")
    run_migrations(database)
    env = {
        **service_env,
        **{k: v for k, v in secret_values.items() if k not in ("REDIS_PASSWORD", "STORED_KEY")},
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "AION_LOG_LEVEL": "DEBUG",  # the most a service ever writes
    }
    stack = Stack(env=env, log_dir=root / "logs")
    stack.log_dir.mkdir()
    with FakeTelegram() as fake:
        fake.add_token(BOT_TOKEN, "aion_leak_bot")
        try:
            stack.start_api()
            stack.start_worker()
            stack.start_tts()
            stack.start_telegram({"TELEGRAM_API_BASE_URL": f"{fake.url}/bot"})
            yield stack, fake
        finally:
            stack.stop()
            import redis

            with (
                redis.Redis.from_url(redis_url) as client,
                contextlib.suppress(redis.ConnectionError),
            ):
                client.shutdown(nosave=True)


class Recorder:
    """Every response the test saw: status line, headers and body, as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        body = response.content.decode("utf-8", errors="replace")
        self.seen.append(f"{response.request.method} {response.url}\n{headers}\n{body}")


@pytest.fixture
async def owner(
    leak_stack: tuple[Stack, FakeTelegram], secret_values: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, Recorder]]:
    stack, _ = leak_stack
    recorder = Recorder()
    async with httpx.AsyncClient(
        base_url=stack.api_url,
        headers={"Authorization": f"Bearer {secret_values['AION_API_TOKEN']}"},
        timeout=60.0,
        event_hooks={"response": [recorder.hook]},
    ) as http:
        yield http, recorder


def _get_routes() -> list[str]:
    """Every GET route of the api without path parameters (read from the app itself)."""
    app = create_app(ApiSettings(aion_api_token=SecretStr("x" * 40)))
    paths = {
        path
        for route in app.routes
        if "GET" in getattr(route, "methods", set())
        and "{" not in (path := str(getattr(route, "path", "{")))
    }
    return sorted(paths)


async def _chat(http: httpx.AsyncClient, message: str, **extra: object) -> list[dict[str, object]]:
    body = {"message": message, "channel": "leaks", **extra}
    async with http.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200, await response.aread()
        return [event.data for event in await collect(response)]


async def test_no_secret_reaches_a_log_or_a_response(
    owner: tuple[httpx.AsyncClient, Recorder],
    leak_stack: tuple[Stack, FakeTelegram],
    secret_values: dict[str, str],
) -> None:
    http, recorder = owner
    stack, fake = leak_stack

    # The owner's writes.
    stored = {"DEEPSEEK_API_KEY": secret_values["STORED_KEY"]}
    assert (await http.post("/api/keys", json=stored)).status_code == 200
    owner_settings = {"tts_engine": "espeak", "memory_auto": True}
    assert (await http.post("/api/config/settings", json=owner_settings)).status_code == 200
    assert (await http.post("/api/prompt/rules", json={"content": "Be brief."})).status_code == 200
    assert (await http.post("/api/plugins/reload")).status_code == 200
    telegram = {"token": BOT_TOKEN, "allowed_ids": [OWNER_CHAT]}
    assert (await http.post("/api/telegram/config", json=telegram)).status_code == 200

    # Turns: plain, with a tool, with an approval decided, spoken.
    await _chat(http, "hello there, remember that I like tea")
    await _chat(http, '[[call=echo:{"text":"hi"}]]')
    events = await _chat(http, '[[call=risky:{"text":"launch"}]]')
    approval = next(e for e in events if e.get("type") == "approval")
    async with http.stream(
        "POST", f"/api/approvals/{approval['id']}", json={"approve": True}
    ) as response:
        await collect(response)
    spoken = await _chat(http, "say something", voice=True)
    blocks = spoken[-1].get("response_blocks")
    assert isinstance(blocks, list)
    for block in blocks:
        if block.get("type") == "audio":
            await http.get(str(block["url"]))

    # Every GET route, as the owner, as nobody, and with a wrong token.
    for path in _get_routes():
        await http.get(path)
        await http.get(path, headers={"Authorization": "Bearer wrong"})
        await http.get(path, headers={"Authorization": ""})
    # Bad requests of every kind.
    await http.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    await http.post("/api/keys", json={"bad name": "x"})
    await http.post("/api/config/settings", json={"max_history_turns": "many"})
    await http.post("/api/telegram/config", json={"token": "nope"})
    await http.get("/api/audio/../../etc/passwd")
    await http.post("/api/approvals/" + "0" * 32, json={"approve": True})

    # A Telegram conversation through the telegram service.
    fake.send_text(BOT_TOKEN, OWNER_CHAT, OWNER_CHAT, "hello from telegram")
    await fake.async_wait_for(
        lambda: [m for m in fake.chat_messages(OWNER_CHAT) if "hello from telegram" in m.plain],
        30,
    )

    logs = {path.name: path.read_text(errors="replace") for path in stack.log_dir.iterdir()}
    assert {"tts", "worker0", "telegram"} <= {re.sub(r"-\d+$", "", n[:-4]) for n in logs}
    assert len(recorder.seen) > 3 * len(_get_routes())
    for name, value in secret_values.items():
        for text in recorder.seen:
            assert value not in text, f"{name} in a response: {text[:300]}"
        for log_name, text in logs.items():
            assert value not in text, f"{name} in {log_name}"
