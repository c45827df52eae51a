"""Environment settings: one pydantic-settings class per service on a common base.

Read once at start-up and passed in; nothing re-reads the environment per request.

Naming, across every service: *settings* are a process's environment settings, these classes
(`ApiSettings`, `WorkerSettings`, `TTSSettings`, `TelegramSettings`, `SandboxSettings`, each in
its service's `settings.py`), and a variable or attribute named `settings` always holds one.
*Config* is the owner's run-time configuration, kept in PostgreSQL and changed through the API
(`/api/config`: the active model, the prompts and the owner's settings, `AppSettings` in
shared/app_settings.py, always named `owner_settings` in code). Names the public API, the wire
or the database fixed (the `settings` table, `settings_changed`, JSON fields) keep their word.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

if TYPE_CHECKING:
    from shared.sealing import Sealer
    from shared.vault import Vault


class ServiceSettings(BaseSettings):
    """What every service needs: how to log, and where its settings come from."""

    # An empty variable (`NAME=` in .env) counts as unset, so defaults still apply. A rejected
    # value is not echoed in the error: it may be a key.
    model_config = SettingsConfigDict(
        env_file=None,
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
        hide_input_in_errors=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then the service's secrets folder (AION_SECRETS_DIR).

        The folder holds the values generated at first start (shared/secret_files.py), one file
        per setting, so a variable given in the environment always wins over its file.
        """
        folder = os.environ.get("AION_SECRETS_DIR")
        files = SecretsSettingsSource(settings_cls, secrets_dir=folder) if folder else None
        return (init_settings, env_settings, dotenv_settings, files or file_secret_settings)

    aion_log_level: str = "INFO"
    aion_log_json: bool = True

    def secret_values(self) -> list[str]:
        """Every secret this service was given: its SecretStr settings (each of a comma-separated
        list of keys too) and the passwords inside its URLs. The log redacts them all."""
        found: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                text = value.get_secret_value()
                found += [text, *(part.strip() for part in text.split(","))]
            elif isinstance(value, str) and "://" in value:
                with contextlib.suppress(ValueError):
                    password = urlsplit(value).password
                    if password:
                        found += [password, unquote(password)]
        return [value for value in found if value]


class DatabaseSettings(ServiceSettings):
    """Where PostgreSQL is (the services that keep or read state there)."""

    database_url: str = Field(
        default="postgresql://aion:aion@localhost:5432/aion",
        description="libpq URI; a unix-socket URI (postgresql://user@/db?host=/dir) works too",
    )

    @field_validator("database_url")
    @classmethod
    def _libpq_scheme(cls, value: str) -> str:
        # SQLAlchemy-style URLs are a common copy-paste; psycopg wants plain libpq.
        for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql://" + value[len(prefix) :]
        if not value.startswith("postgresql://"):
            raise ValueError("DATABASE_URL must be a postgresql:// URI")
        return value

    # How long a request waits for a database connection (all busy, or PostgreSQL down) before
    # it fails: the api then answers 503.
    aion_db_wait_seconds: float = Field(default=5.0, gt=0)


class RedisSettings(ServiceSettings):
    """Where Redis is (turn transport, control messages, leases)."""

    redis_url: str = Field(default="redis://localhost:6379/0")


class HandoverSettings(ServiceSettings):
    """The key the api hands the telegram service its stored bot token under (both read it).

    A key of that handover alone: the process that parses untrusted Telegram updates never
    holds AION_SECRET_KEY, the key to every stored secret. Generated at first start
    (shared/secret_files.py).
    """

    aion_telegram_handover_key: SecretStr | None = None

    @field_validator("aion_telegram_handover_key")
    @classmethod
    def _handover_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from shared.sealing import parse_key

            parse_key(value.get_secret_value(), "AION_TELEGRAM_HANDOVER_KEY")
        return value

    def handover(self) -> Sealer:
        from shared.sealing import Sealer, parse_key

        key = self.aion_telegram_handover_key
        return Sealer(
            parse_key(key.get_secret_value()) if key else None,
            "AION_TELEGRAM_HANDOVER_KEY is not set: the stored bot token cannot be handed over "
            "(set the same key for the api and the telegram service).",
        )


class BaseServiceSettings(DatabaseSettings, RedisSettings):
    """Both stores: the api and the worker."""


class TurnTransportSettings(BaseServiceSettings):
    """Knobs of the event transport shared by the api (reader) and the worker (writer)."""

    aion_event_ttl_seconds: int = Field(default=3600, ge=60)
    aion_event_maxlen: int = Field(default=5000, ge=100)
    aion_worker_lease_seconds: float = Field(default=5.0, ge=1.0)
    aion_model: str = "gpt-4o-mini"


class ProviderSettings(BaseServiceSettings):
    """Provider endpoints, env-provided secrets (defaults under the vault's) and the vault key."""

    aion_secret_key: SecretStr | None = None
    aion_public_url: str | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    gemini_api_key: SecretStr | None = None
    deepseek_api_key: SecretStr | None = None
    xai_api_key: SecretStr | None = None
    openrouter_api_key: SecretStr | None = None
    claude_code_oauth_token: SecretStr | None = None
    google_client_id: SecretStr | None = None
    google_client_secret: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    gemini_base_url: str | None = None
    deepseek_base_url: str | None = None
    xai_base_url: str | None = None
    ollama_base_url: str | None = None
    openrouter_base_url: str | None = None
    # Google's OAuth endpoints; tests point them at a local fake.
    aion_google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    aion_google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105
    aion_claude_cli_path: str = "claude"
    # How long a fetched model list is kept, and how long fetching one may take.
    aion_models_cache_seconds: float = Field(default=300.0, ge=0)
    aion_models_timeout_seconds: float = Field(default=3.0, gt=0)

    @field_validator("aion_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from shared.sealing import parse_key

            parse_key(value.get_secret_value())
        return value

    def env_secrets(self) -> dict[str, str]:
        """Provider and integration secrets given in the environment, by their variable names.

        AION's own credentials (`aion_*`: the vault key, the owner's token, the telegram
        service's credential and handover key) are not among them: nothing lists them, not
        even masked, and no provider is handed one.
        """
        found = {}
        for field in type(self).model_fields:
            value = getattr(self, field)
            if isinstance(value, SecretStr) and not field.startswith("aion_"):
                found[field.upper()] = value.get_secret_value()
        return found

    def base_url(self, setting: str | None) -> str | None:
        return getattr(self, setting.lower(), None) if setting else None

    def vault(self) -> Vault:
        from shared.vault import Vault, parse_key

        key = self.aion_secret_key
        return Vault(parse_key(key.get_secret_value()) if key else None)
