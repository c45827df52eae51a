"""The sandbox service's environment settings (read once at start).

No database, no Redis, no key: only where to listen, the workspace, limits, and the SHA-256 of
the workers' credential (shared/sandbox.py), which lets nobody in by itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.sandbox import DIGEST
from shared.service_settings import ServiceSettings


class SandboxSettings(ServiceSettings):
    aion_sandbox_host: str = "127.0.0.1"  # the image listens on 0.0.0.0 (its own network)
    aion_sandbox_port: int = Field(default=7400, ge=1, le=65535)
    # SHA-256 (hex) of AION_SANDBOX_TOKEN, the workers' credential; generated at first start.
    aion_sandbox_token_sha256: str | None = Field(default=None, pattern=DIGEST.pattern)
    # The only folder commands get, shared with the workers (the files tools).
    aion_workspace_dir: Path = Path("/data/workspace")
    # Commands at once (more are refused with 429), and the longest one may run.
    aion_sandbox_max_commands: int = Field(default=8, ge=1, le=256)
    aion_sandbox_max_seconds: float = Field(default=300.0, gt=0, le=3600)
    # Long-lived programs (stdio MCP servers) at once, apart from commands (more are refused).
    aion_sandbox_max_servers: int = Field(default=16, ge=1, le=256)
