"""What the workers know about their Claude CLI, kept in Redis for the api to show.

The CLI runs where the workers run, so each worker looks at its own at start and whenever the
secrets change, and writes the result here; the api never runs the CLI itself.
"""

from __future__ import annotations

from pydantic import BaseModel

STATUS_KEY = "aion:claude-cli:status"
STATUS_TTL_SECONDS = 24 * 3600


class ClaudeCliStatus(BaseModel):
    installed: bool = False
    authenticated: bool = False
    path: str | None = None
    version: str | None = None
    auth_source: str | None = None  # "token" (CLAUDE_CODE_OAUTH_TOKEN) or "credentials file"
    worker_id: str | None = None
