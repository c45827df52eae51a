"""The api's environment settings (read once at start)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

from shared.service_settings import HandoverSettings, ProviderSettings, TurnTransportSettings

# The shortest bearer credential the api accepts: a guessable one would make every limit moot.
MIN_TOKEN_CHARS = 32


class ApiSettings(TurnTransportSettings, ProviderSettings, HandoverSettings):
    aion_port: int = Field(default=7000, ge=1, le=65535)
    aion_host: str = "0.0.0.0"
    aion_api_token: SecretStr | None = None
    # Where a token the api generates for itself (AION_API_TOKEN unset, no secrets folder) goes.
    aion_api_token_file: Path = Path("data/aion_api_token")
    # The largest body of the authenticated routes that take large ones (chat with images,
    # prompts); every other request body is at most 256 KiB.
    aion_max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # The largest file POST /api/files takes, and how long it waits for a worker to read it
    # (longer than the worker's own AION_FILE_EXTRACT_SECONDS).
    aion_file_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    aion_file_extract_wait_seconds: float = Field(default=90.0, gt=0, le=900)
    # Reverse proxies whose X-Forwarded-For names the client (CIDRs, a JSON list or comma
    # separated); none by default: the client is the socket peer.
    aion_trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)
    # Requests per minute one client address may make to the public routes (probes excepted).
    aion_public_rate_limit: int = Field(default=60, ge=1)
    aion_cors_origins: list[str] = Field(default_factory=list)
    # How long a console session (POST /api/session) lasts before the owner signs in again.
    aion_session_days: float = Field(default=7.0, gt=0, le=366)
    # The built web console (console/dist; `make console`), served at /.
    aion_console_dir: Path = Path(__file__).resolve().parents[2] / "console" / "dist"
    aion_sse_ping_seconds: float = Field(default=15.0, gt=0)
    aion_db_pool_size: int = Field(default=10, ge=1)
    aion_audio_dir: Path = Path("/data/audio")  # shared with the tts service
    # How long a relay waits in silence before it re-reads the log and checks the worker's lease.
    aion_relay_idle_check_seconds: float = Field(default=1.0, gt=0)
    # How long a relay waits for Redis to come back (a restart) before it ends the stream with
    # an `error` event; longer than the worker's own wait, so a turn that survives is followed.
    aion_relay_redis_grace_seconds: float = Field(default=45.0, ge=0)
    # How long a change every worker must apply (plugins, settings, prompts, keys, the model)
    # waits for each live worker to confirm it before the api answers.
    aion_plugin_ack_timeout_seconds: float = Field(default=5.0, gt=0)
    # How long adding or switching an MCP server waits for every worker to have connected.
    aion_mcp_ack_timeout_seconds: float = Field(default=20.0, gt=0)
    # The Alexa skill allowed to call POST /api/alexa; unset refuses every Alexa request.
    alexa_skill_id: str | None = None
    # Alexa gives up after about 8 s: answer "still working" when the turn is not done by then.
    aion_alexa_answer_seconds: float = Field(default=6.0, gt=0, le=7.5)
    # On SIGTERM: how long open SSE streams may go on before the process stops anyway.
    aion_api_drain_seconds: float = Field(default=30.0, ge=0)
    # How long a memory search waits for a worker to embed its query.
    aion_embed_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How long POST /api/files/{id}/index waits for a worker to index the file before it
    # answers 202 (the indexing goes on; GET /api/files/{id}/index follows it).
    aion_index_wait_seconds: float = Field(default=30.0, ge=0, le=300)
    # The default bot token (a stored one wins); a field here so /api/keys lists it as "env".
    telegram_bot_token: SecretStr | None = None
    # How long POST /api/telegram/config waits for the telegram service to poll a new token.
    aion_telegram_switch_seconds: float = Field(default=5.0, ge=0, le=30)
    # The telegram service's own credential (only the routes it calls), generated at first start.
    aion_telegram_service_token: SecretStr | None = None
    # A Prometheus scraper's credential: it opens GET /metrics and nothing else. Unset: only the
    # owner's token reads the metrics.
    aion_metrics_token: SecretStr | None = None

    @field_validator("aion_api_token", "aion_telegram_service_token", "aion_metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_CHARS:
            name = str(info.field_name).upper()
            raise ValueError(
                f"{name} is shorter than {MIN_TOKEN_CHARS} characters: use a long random one "
                "(`openssl rand -hex 32`), or leave it unset to have one generated"
            )
        return value

    @field_validator("aion_api_token_file")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """Relative to the working directory at start, and logged as the full path."""
        return value.expanduser().absolute()

    @field_validator("aion_trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        """A JSON list, or networks separated by commas or spaces."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.replace(",", " ").split()
        return value
