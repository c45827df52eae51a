"""The api's environment settings (read once at start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from shared.config import HandoverSettings, ProviderSettings, TurnTransportSettings


class ApiSettings(TurnTransportSettings, ProviderSettings, HandoverSettings):
    aion_port: int = Field(default=7000, ge=1, le=65535)
    aion_host: str = "0.0.0.0"
    aion_api_token: SecretStr | None = None
    aion_max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    aion_cors_origins: list[str] = Field(default_factory=list)
    aion_sse_ping_seconds: float = Field(default=15.0, gt=0)
    aion_db_pool_size: int = Field(default=10, ge=1)
    aion_audio_dir: Path = Path("/data/audio")  # shared with the tts service
    # How long a relay waits in silence before it re-reads the log and checks the worker's lease.
    aion_relay_idle_check_seconds: float = Field(default=1.0, gt=0)
    # How long a relay waits for Redis to come back (a restart) before it ends the stream with
    # an `error` event; longer than the worker's own wait, so a turn that survives is followed.
    aion_relay_redis_grace_seconds: float = Field(default=45.0, ge=0)
    # How long a plugin change waits for every live worker to confirm it.
    aion_plugin_ack_timeout_seconds: float = Field(default=5.0, gt=0)
    # The Alexa skill allowed to call POST /api/alexa; unset refuses every Alexa request.
    alexa_skill_id: str | None = None
    # Alexa gives up after about 8 s: answer "still working" when the turn is not done by then.
    aion_alexa_answer_seconds: float = Field(default=6.0, gt=0, le=7.5)
    # On SIGTERM: how long open SSE streams may go on before the process stops anyway.
    aion_api_drain_seconds: float = Field(default=30.0, ge=0)
    # How long a memory search waits for a worker to embed its query.
    aion_embed_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # The default bot token (a stored one wins); a field here so /api/keys lists it as "env".
    telegram_bot_token: SecretStr | None = None
    # How long POST /api/telegram/config waits for the telegram service to poll a new token.
    aion_telegram_switch_seconds: float = Field(default=5.0, ge=0, le=30)
    # The telegram service's own credential (only the routes it calls), generated at first start.
    aion_telegram_service_token: SecretStr | None = None
