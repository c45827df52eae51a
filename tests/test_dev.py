"""`make dev` (scripts/dev.py): each service gets only the AION settings it reads, as in compose."""

from __future__ import annotations

from scripts.dev import service_env

SHELL_ENV = {
    "PATH": "/usr/bin:/bin",
    "HTTPS_PROXY": "http://proxy.example:3128",
    "AION_API_TOKEN": "owner-token-" + "x" * 32,
    "TELEGRAM_BOT_TOKEN": "123456:bot-token",
    "AION_TELEGRAM_SERVICE_TOKEN": "telegram-credential-" + "y" * 32,
    "AION_TELEGRAM_HANDOVER_KEY": "handover-key",
    "AION_SECRET_KEY": "vault-key",
    "OPENAI_API_KEY": "sk-openai",
    "DATABASE_URL": "postgresql://aion@/aion?host=/tmp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "AION_LOG_LEVEL": "DEBUG",
}


def test_the_worker_never_holds_the_owner_s_or_the_bot_s_token() -> None:
    worker = service_env("worker", SHELL_ENV)
    for name in (
        "AION_API_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "AION_TELEGRAM_SERVICE_TOKEN",
        "AION_TELEGRAM_HANDOVER_KEY",
    ):
        assert name not in worker, name
    # What it reads, and what no AION service reads (the SDKs' proxies), still come through.
    for name in ("AION_SECRET_KEY", "OPENAI_API_KEY", "DATABASE_URL", "REDIS_URL", "PATH"):
        assert worker[name] == SHELL_ENV[name], name
    assert worker["HTTPS_PROXY"] == SHELL_ENV["HTTPS_PROXY"]


def test_each_service_gets_only_its_own_settings() -> None:
    telegram = service_env("telegram", SHELL_ENV)
    assert "DATABASE_URL" not in telegram and "AION_SECRET_KEY" not in telegram
    assert "AION_API_TOKEN" not in telegram and telegram["TELEGRAM_BOT_TOKEN"]
    tts = service_env("tts", SHELL_ENV)
    assert "REDIS_URL" not in tts and "AION_SECRET_KEY" not in tts and tts["DATABASE_URL"]
    api = service_env("api", SHELL_ENV)
    assert api["AION_API_TOKEN"] == SHELL_ENV["AION_API_TOKEN"]
    assert all(env["AION_LOG_LEVEL"] == "DEBUG" for env in (api, telegram, tts))
