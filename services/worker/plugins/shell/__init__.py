"""`shell_run`: a shell command in the sandbox (services/worker/sandbox/), in the workspace.

Off by default (the owner enables the plugin) and always `ask` unless the owner's
tool_permissions say otherwise; each command has a time limit and its output is capped. The
command never runs in the worker: without a sandbox the plugin does not load (and says why).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.worker.sandbox import NO_SANDBOX, SandboxError, configured_backend
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry

MAX_TIMEOUT_SECONDS = 300


class ShellArguments(BaseModel):
    command: str = Field(min_length=1, max_length=10_000, description="run by /bin/sh -c")
    timeout_seconds: int = Field(default=30, ge=1, le=MAX_TIMEOUT_SECONDS)


async def shell_run(ctx: ToolContext, args: ShellArguments) -> dict[str, Any]:
    try:
        result = await ctx.app.sandbox.run(args.command, time_limit=args.timeout_seconds)
    except SandboxError as exc:
        raise ToolError(str(exc)) from exc
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
    if configured_backend(registry.settings) is None:
        raise RuntimeError(NO_SANDBOX)
    registry.add(
        "shell_run",
        "Run a shell command in the workspace folder, in a sandbox (no access to AION's own "
        "files, processes or databases); returns its exit code and output (stdout and stderr "
        "together, long output cut in the middle).",
        ShellArguments,
        shell_run,
        risk="ask",
        timeout=MAX_TIMEOUT_SECONDS + 10,  # the command's own limit comes first
        # Output of programs and of whatever they fetched; a command can write anywhere in the
        # workspace (and reach the internet where the sandbox is given a route out).
        reads_untrusted=True,
        sends_or_persists=True,
    )
