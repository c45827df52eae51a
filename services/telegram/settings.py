"""The telegram service's environment settings (read once at start)."""

from __future__ import annotations

import hashlib

from pydantic import Field, SecretStr

from shared.service_settings import HandoverSettings, RedisSettings

WEBHOOK_PATH = "/telegram/webhook"


class TelegramSettings(RedisSettings, HandoverSettings):
    """How to reach the api and Telegram, and where the health server listens.

    Only what this service uses: it parses untrusted updates and documents, so it holds neither
    the owner's token nor the vault key nor any provider key but the speech-to-text one. The bot
    token and the allowed users are the owner's to set (POST /api/telegram/config, stored in
    PostgreSQL); TELEGRAM_BOT_TOKEN is only the default until one is stored.
    """

    # SecretStr so the token never shows up in a repr or a log line by accident.
    telegram_bot_token: SecretStr | None = None
    # A Bot API server or a test double, e.g. http://127.0.0.1:8081/bot (files: /file/bot).
    telegram_api_base_url: str | None = None
    # Set: Telegram posts updates to this public URL (ending in WEBHOOK_PATH, which the health
    # port serves) instead of being polled. Unset: long polling.
    telegram_webhook_url: str | None = None
    # Checked on every webhook call; derived from the bot token when unset.
    telegram_webhook_secret: SecretStr | None = None
    aion_api_url: str = "http://127.0.0.1:7000"
    # This service's own credential for the api (it opens only the routes the bot calls),
    # generated at first start; the handover key (HandoverSettings) opens the bot token.
    aion_telegram_service_token: SecretStr | None = None
    # Speech to text for voice notes goes to OPENAI_BASE_URL with OPENAI_API_KEY (a stored key,
    # handed over sealed, wins).
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    aion_transcribe_model: str = "whisper-1"
    # At most one message or edit per chat this often (Telegram's own limit is about 1/s).
    aion_telegram_edit_seconds: float = Field(default=1.0, ge=0.05, le=10)
    aion_telegram_poll_seconds: int = Field(default=10, ge=0, le=50)  # getUpdates long-poll
    # How long a document the owner sends may take the api to read (its own wait is 90 s).
    aion_telegram_file_wait_seconds: float = Field(default=120.0, gt=0, le=900)
    # Loopback by default; the container image sets 0.0.0.0 so k8s probes can reach it.
    aion_telegram_health_host: str = "127.0.0.1"
    aion_telegram_health_port: int = Field(default=7200, ge=1, le=65535)

    @property
    def api_credential(self) -> str | None:
        token = self.aion_telegram_service_token
        return token.get_secret_value() if token else None

    @property
    def env_bot_token(self) -> str | None:
        token = self.telegram_bot_token
        return token.get_secret_value().strip() or None if token else None

    @property
    def env_openai_key(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    @property
    def webhook_endpoint(self) -> str:
        return self.telegram_webhook_url or ""

    def webhook_secret(self, token: str) -> str:
        """What Telegram sends back in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Za-z0-9_-)."""
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret.get_secret_value()
        return hashlib.sha256(b"aion-telegram-webhook:" + token.encode()).hexdigest()
