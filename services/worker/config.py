"""The worker's environment settings (read once at start)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from shared.config import TurnTransportSettings


class WorkerConfig(TurnTransportSettings):
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    aion_worker_max_jobs: int = Field(default=500, ge=1)
    # Workers are woken by a pub/sub nudge on every enqueue; this poll is only the fallback.
    aion_worker_idle_poll_seconds: float = Field(default=0.5, gt=0)
    # Token deltas inside this window are sent as one event (the first one goes at once).
    aion_token_flush_ms: float = Field(default=50.0, ge=0)
    aion_provider_timeout_seconds: float = Field(default=120.0, gt=0)
    aion_provider_max_retries: int = Field(default=2, ge=0, le=10)
    aion_turn_timeout_seconds: int = Field(default=900, ge=10)
    aion_db_pool_size: int = Field(default=10, ge=1)
    # Memory: `local` runs all-MiniLM-L6-v2 on the CPU (offline); `openai` calls the embeddings
    # endpoint of OPENAI_BASE_URL (AION_EMBEDDING_MODEL, default text-embedding-3-small).
    aion_embedding_provider: Literal["local", "openai"] = "local"
    aion_embedding_model: str = ""
    aion_embedding_model_dir: str | None = None  # model.onnx + tokenizer.json of another model
    aion_embedding_threads: int = Field(default=0, ge=0)  # 0: onnxruntime's choice (all cores)
