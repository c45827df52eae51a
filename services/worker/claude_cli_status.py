"""Looks at this worker's Claude CLI without spending a prompt, and publishes what it found.

Checked: the binary on PATH (or AION_CLAUDE_CLI_PATH), `claude --version` (a subprocess with a
5 s timeout), and whether credentials are present: a CLAUDE_CODE_OAUTH_TOKEN among the secrets,
or the CLI's own credentials file (`$CLAUDE_CONFIG_DIR` or `~/.claude`, `.credentials.json`
with an OAuth access token). Presence only: whether Anthropic still accepts them shows on the
first real call, which then fails with the CLI's own message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

from services.worker.context import WorkerContext
from shared.claude_cli import STATUS_KEY, STATUS_TTL_SECONDS, ClaudeCliStatus
from shared.providers import CLAUDE_CLI_TOKEN

log = logging.getLogger("aion.worker.claude_cli")


async def _version(path: str) -> str | None:
    process = await asyncio.create_subprocess_exec(
        path,
        "--version",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(5):
            out, _ = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return None
    text = out.decode(errors="replace").strip().splitlines()
    return text[0][:100] if process.returncode == 0 and text else None


def _credentials_file() -> bool:
    folder = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    try:
        data = json.loads((folder / ".credentials.json").read_text())
    except (OSError, ValueError):
        return False
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    return isinstance(oauth, dict) and bool(oauth.get("accessToken"))


async def inspect(app: WorkerContext) -> ClaudeCliStatus:
    path = shutil.which(app.settings.aion_claude_cli_path)
    if path is None:
        return ClaudeCliStatus(worker_id=app.worker_id)
    secrets = await app.secrets.get()
    source = (
        "token"
        if secrets.get(CLAUDE_CLI_TOKEN)
        else "credentials file"
        if await asyncio.to_thread(_credentials_file)
        else None
    )
    return ClaudeCliStatus(
        installed=True,
        authenticated=source is not None,
        path=path,
        version=await _version(path),
        auth_source=source,
        worker_id=app.worker_id,
    )


async def publish(app: WorkerContext) -> None:
    """Best effort: a failure here must never stop the worker."""
    try:
        status = await inspect(app)
        await app.redis.set(STATUS_KEY, status.model_dump_json(), ex=STATUS_TTL_SECONDS)
    except Exception as exc:  # the CLI is optional; say why in the log and go on
        log.warning("could not check the Claude CLI: %s", exc)
