"""Environment settings: one pydantic-settings class per service on a common base.

Read once at start-up and passed in; nothing re-reads the environment per request.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    """What every service needs: where PostgreSQL and Redis are, and how to log."""

    # An empty variable (`NAME=` in .env) counts as unset, so defaults still apply.
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    database_url: str = Field(
        default="postgresql://aion:aion@localhost:5432/aion",
        description="libpq URI; a unix-socket URI (postgresql://user@/db?host=/dir) works too",
    )
    redis_url: str = Field(default="redis://localhost:6379/0")
    aion_log_level: str = "INFO"
    aion_log_json: bool = True

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


class TurnTransportSettings(BaseServiceSettings):
    """Knobs of the event transport shared by the api (reader) and the worker (writer)."""

    aion_event_ttl_seconds: int = Field(default=3600, ge=60)
    aion_event_maxlen: int = Field(default=5000, ge=100)
    aion_worker_lease_seconds: float = Field(default=5.0, ge=1.0)
    aion_model: str = "gpt-4o-mini"
