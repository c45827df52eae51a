"""The worker's environment settings (read once at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.service_settings import ProviderSettings, TurnTransportSettings


class WorkerSettings(TurnTransportSettings, ProviderSettings):
    aion_worker_max_jobs: int = Field(default=500, ge=1)
    # Workers are woken by a pub/sub nudge on every enqueue; this poll is only the fallback.
    aion_worker_idle_poll_seconds: float = Field(default=0.5, gt=0)
    # Token deltas inside this window are sent as one event (the first one goes at once).
    aion_token_flush_ms: float = Field(default=50.0, ge=0)
    # A busy worker widens that window (by one step per 25 turns running at once, up to this):
    # fewer, larger events when every event's cost counts most. 0 keeps it fixed.
    aion_token_flush_max_ms: float = Field(default=200.0, ge=0)
    aion_provider_timeout_seconds: float = Field(default=120.0, gt=0)
    aion_provider_max_retries: int = Field(default=2, ge=0, le=10)
    # OpenAI's `prompt_cache_key` (one per channel, so its requests reach the same prompt
    # cache): `auto` sends it to OpenAI's own API only (other OpenAI-compatible servers may
    # refuse an unknown field), `on` to every OpenAI-compatible endpoint, `off` never.
    aion_prompt_cache_key: Literal["auto", "on", "off"] = "auto"
    # The HTTP client the provider SDKs stream through: aiohttp's C parser costs about half the
    # CPU per token of httpx2's pure-Python one (bench/stream_client.py); httpx is the fallback.
    aion_provider_http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    aion_turn_timeout_seconds: int = Field(default=900, ge=10)
    # How long a turn waits for Redis to come back (a restart) before it gives up; a turn that
    # gives up is ended with `worker_lost` by whoever looks once Redis is back.
    aion_worker_redis_grace_seconds: float = Field(default=30.0, ge=0)
    # The same for PostgreSQL (a turn waits to store the question and the answer); a turn that
    # gives up ends with `error`, its question stored or not, its answer never half stored.
    aion_worker_db_grace_seconds: float = Field(default=30.0, ge=0)
    aion_db_pool_size: int = Field(default=10, ge=1)
    aion_plugins_dir: Path | None = Path("/data/plugins")
    # How long a risky tool call waits for the owner's decision.
    aion_approval_ttl_seconds: float = Field(default=600.0, gt=0)
    # A yes/no chat word decides an approval only as the channel's next message and within this
    # long of the question; later, or after anything else was said, it is an ordinary message.
    aion_approval_word_seconds: float = Field(default=120.0, gt=0)
    # On SIGTERM: stop taking turns and let running ones finish for up to this long (keep it
    # below the pod's terminationGracePeriodSeconds / compose's stop_grace_period). 0: stop now.
    aion_worker_drain_seconds: int = Field(default=120, ge=0)
    # Probes (/healthz, /readyz) and Prometheus /metrics. Loopback by default; the image sets
    # 0.0.0.0 so k8s probes and Prometheus reach it. Port 0 turns the server off.
    aion_worker_metrics_host: str = "127.0.0.1"
    aion_worker_metrics_port: int = Field(default=7300, ge=0, le=65535)
    # The internal speech service, and the audio store its files land in (for the retention job).
    aion_tts_url: str = "http://127.0.0.1:7100"
    aion_tts_token: SecretStr | None = None  # the tts service's credential (AION_TTS_TOKEN)
    aion_tts_timeout_seconds: float = Field(default=120.0, gt=0)
    aion_audio_dir: Path = Path("/data/audio")
    # Update check: AION's GitHub repository (owner/name; unset = no check) and where its API is.
    aion_update_repo: str | None = None
    aion_update_api_url: str = "https://api.github.com"
    aion_update_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # The only folder the files and shell tools work in.
    aion_workspace_dir: Path = Path("/data/workspace")
    # Where shell commands run; never in the worker itself (services/worker/sandbox/). `auto`:
    # the sandbox service when AION_SANDBOX_URL is set, else bubblewrap when it is installed and
    # works here; with neither the shell tool refuses to run.
    aion_sandbox: Literal["auto", "service", "bubblewrap"] = "auto"
    aion_sandbox_url: str | None = Field(default=None, pattern=r"^https?://")
    # The worker's credential for the sandbox service (which keeps only its SHA-256).
    aion_sandbox_token: SecretStr | None = None
    aion_sandbox_bwrap: str = "bwrap"  # the bubblewrap program (a name on PATH, or a path)
    # Reading an uploaded file (services/worker/documents/): a child process killed after this
    # long, with at most this much memory, keeping at most this many characters of text.
    aion_file_extract_seconds: float = Field(default=60.0, gt=0, le=600)
    aion_file_extract_memory_mb: int = Field(default=512, ge=128)
    aion_file_max_chars: int = Field(default=2_000_000, ge=1000)
    # How many files one worker reads at once (the others wait their turn).
    aion_file_extract_concurrency: int = Field(default=2, ge=1, le=64)
    # How much of each file attached to a chat message the model reads (characters).
    aion_file_chat_chars: int = Field(default=40_000, ge=500)
    # MCP servers (services/worker/mcp/): how long one connection attempt may take, and folders
    # a stdio server under bubblewrap sees read-only besides /usr (where its program lives, as
    # a JSON list, e.g. ["/opt/mcp-servers"]).
    aion_mcp_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    aion_mcp_stdio_mounts: list[Path] = Field(default_factory=list)
    # A SearXNG instance (base URL, JSON format enabled) for web_search; unset: no search tool.
    aion_search_url: str | None = Field(default=None, pattern=r"^https?://")
    # How often the workers look for due reminders; a divisor of 60 (cron seconds).
    aion_reminder_check_seconds: int = Field(default=15, ge=1, le=60)

    # How often the workers look for conversations whose memory extraction is due (they are
    # due after the owner's memory_extract_idle_seconds); a divisor of 60 (cron seconds).
    aion_memory_extract_check_seconds: int = Field(default=15, ge=1, le=60)

    @field_validator("aion_reminder_check_seconds", "aion_memory_extract_check_seconds")
    @classmethod
    def _divides_a_minute(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return value

    # Memory: `local` runs all-MiniLM-L6-v2 on the CPU (offline); `openai` calls the embeddings
    # endpoint of OPENAI_BASE_URL (AION_EMBEDDING_MODEL, default text-embedding-3-small).
    aion_embedding_provider: Literal["local", "openai"] = "local"
    aion_embedding_model: str = ""
    # config.json + model.safetensors + tokenizer.json of another BERT sentence-transformers model
    aion_embedding_model_dir: str | None = None
    aion_embedding_threads: int = Field(default=0, ge=0)  # numpy's BLAS threads; 0: all cores

    @model_validator(mode="after")
    def _sandbox_complete(self) -> WorkerSettings:
        if self.aion_sandbox == "service" and not self.aion_sandbox_url:
            raise ValueError("AION_SANDBOX=service needs AION_SANDBOX_URL (the sandbox service)")
        if self.aion_sandbox_url and self.aion_sandbox != "bubblewrap":
            token = self.aion_sandbox_token
            if token is None or len(token.get_secret_value()) < 32:
                raise ValueError(
                    "AION_SANDBOX_URL needs AION_SANDBOX_TOKEN (at least 32 characters), the "
                    "credential whose SHA-256 the sandbox service holds"
                )
        return self

    def env_secrets(self) -> dict[str, str]:
        """Provider keys given in the environment (not the sandbox's credential)."""
        found = super().env_secrets()
        found.pop("AION_SANDBOX_TOKEN", None)
        return found
