"""`shell_run`: a shell command in the worker container, inside the workspace folder.

Off by default (the owner enables the plugin) and always `ask` unless the owner's
tool_permissions say otherwise; each command has a time limit and its output is capped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.worker.plugins.files.workspace import workspace_root
from services.worker.plugins.shell.run import run_command
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry

MAX_TIMEOUT_SECONDS = 300


class ShellArguments(BaseModel):
    command: str = Field(min_length=1, max_length=10_000, description="run by /bin/sh -c")
    timeout_seconds: int = Field(default=30, ge=1, le=MAX_TIMEOUT_SECONDS)


async def shell_run(ctx: ToolContext, args: ShellArguments) -> dict[str, Any]:
    cwd = workspace_root(ctx.app.config.aion_workspace_dir)
    result = await run_command(args.command, cwd=cwd, time_limit=args.timeout_seconds)
    if result.timed_out:
        raise ToolError(
            f"The command did not finish within {args.timeout_seconds} s and was killed. "
            f"Output so far:\n{result.output}"
        )
    return {
        "exit_code": result.exit_code,
        "output": result.output,
        "output_bytes": result.output_bytes,
        "truncated": result.truncated,
        "duration_ms": result.duration_ms,
    }


def register(registry: ToolRegistry) -> None:
    registry.add(
        "shell_run",
        "Run a shell command in the workspace folder of AION's worker container; returns "
        "its exit code and output (stdout and stderr together, long output cut in the middle).",
        ShellArguments,
        shell_run,
        risk="ask",
        timeout=MAX_TIMEOUT_SECONDS + 10,  # the command's own limit comes first
        # Output of programs and of whatever they fetched; a command can reach the network and
        # write anywhere in the workspace.
        reads_untrusted=True,
        sends_or_persists=True,
    )
