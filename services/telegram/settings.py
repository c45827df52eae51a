"""The telegram service's environment settings (read once at start)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.config import BaseServiceSettings


class TelegramSettings(BaseServiceSettings):
    """Bot credentials, how to reach the api, and where the health server listens."""

    # SecretStr so the token never shows up in a repr or a log line by accident.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None  # a Bot API server or a test double
    telegram_webhook_url: str | None = None  # unset: long polling
    aion_api_url: str = "http://127.0.0.1:7000"
    aion_api_token: SecretStr | None = None
    # Loopback by default; the container image sets 0.0.0.0 so k8s probes can reach it.
    aion_telegram_health_host: str = "127.0.0.1"
    aion_telegram_health_port: int = Field(default=7200, ge=1, le=65535)

    @property
    def has_bot_token(self) -> bool:
        """Whether a non-blank token was configured (the API can also provide one later)."""
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value().strip())
