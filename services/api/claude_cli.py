"""GET /api/claude-cli/status and POST /api/claude-cli/login, from what the workers reported.

The CLI runs on the workers, so the api runs nothing: it reads the status each worker writes
(services/worker/claude_cli_status.py). No prompt is spent and the event loop never waits on a
subprocess here.
"""

from __future__ import annotations

from services.api.context import AppContext
from services.api.schemas.providers import ClaudeCliLogin, ClaudeCliView
from shared.claude_cli import STATUS_KEY, ClaudeCliStatus

HOW_TO_LOGIN = (
    "The Claude CLI on the workers is not logged in, and its login needs a browser, so AION "
    "does not run it for you. Either run `claude setup-token` on a machine where you can sign "
    "in and save the token it prints with POST /api/keys as CLAUDE_CODE_OAUTH_TOKEN (every "
    "worker uses it from its next call), or run `claude login` inside the worker's container."
)


async def _status(ctx: AppContext) -> ClaudeCliStatus:
    raw = await ctx.redis.get(STATUS_KEY)
    return ClaudeCliStatus.model_validate_json(raw) if raw else ClaudeCliStatus()


async def status(ctx: AppContext) -> ClaudeCliView:
    found = await _status(ctx)
    return ClaudeCliView(
        **found.model_dump(include={"installed", "authenticated", "path", "version"})
    )


async def login(ctx: AppContext) -> ClaudeCliLogin:
    found = await _status(ctx)
    if not found.installed:
        message = (
            "No worker has the Claude CLI: install it in the worker image "
            "(npm install -g @anthropic-ai/claude-code) or set AION_CLAUDE_CLI_PATH."
        )
        return ClaudeCliLogin(ok=False, step="not_installed", message=message)
    if found.authenticated:
        how = "a saved token" if found.auth_source == "token" else "its credentials file"
        message = f"The Claude CLI is logged in ({how})."
        return ClaudeCliLogin(ok=True, step="already_authenticated", message=message)
    return ClaudeCliLogin(ok=False, step="failed", message=HOW_TO_LOGIN)
