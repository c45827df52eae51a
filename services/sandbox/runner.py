"""Runs the commands: /bin/sh -c in the workspace, a bare environment, a bounded number at once.

Each command is its own session and process group, killed whole when it ends (shared/command.py).
A process that left its group (setsid, a double fork) is re-parented to this service, a child
subreaper (__main__.py); whenever no command is running, every child left is such a stray and
is killed and reaped, so nothing a command started outlives it for long.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

from shared.command import run_program
from shared.sandbox import CommandResult

log = logging.getLogger("aion.sandbox")

COMMAND_PATH = "/usr/local/bin:/usr/bin:/bin"
_REAP_SECONDS = 1.0


class Busy(Exception):
    """As many commands as allowed are running already."""


def command_env(workspace: Path) -> dict[str, str]:
    """All a command's environment: nothing of the service's own."""
    return {"PATH": COMMAND_PATH, "HOME": str(workspace), "LANG": "C.UTF-8", "TERM": "dumb"}


class CommandRunner:
    def __init__(self, workspace: Path, *, max_commands: int, max_seconds: float) -> None:
        self._configured = workspace
        self._max_commands = max_commands
        self._max_seconds = max_seconds
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    def acquire(self) -> None:
        """Take a slot (synchronously, so two requests cannot both take the last), or Busy."""
        if self._running >= self._max_commands:
            raise Busy
        self._running += 1

    def release(self) -> None:
        self._running -= 1
        if self._running == 0:
            sweep_strays()

    async def run(self, command: str, timeout_seconds: float) -> CommandResult:
        """Run in a slot taken with `acquire` (the caller releases it)."""
        self._configured.mkdir(parents=True, exist_ok=True)
        workspace = self._configured.resolve(strict=True)
        result = await run_program(
            ["/bin/sh", "-c", command],
            cwd=workspace,
            env=command_env(workspace),
            time_limit=min(timeout_seconds, self._max_seconds),
        )
        log.info("command ended: exit code %s after %d ms", result.exit_code, result.duration_ms)
        return result

    def sweep_when_idle(self) -> int:
        return sweep_strays() if self._running == 0 else 0


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def sweep_strays() -> int:
    """Kill and reap every child of this process. Only call it while no command runs: then
    each child is something a command left behind. Synchronous, so no command starts meanwhile."""
    swept = 0
    for _ in range(32):  # a killed stray's own children come to us next
        children = _children(os.getpid())
        if not children:
            break
        for pid in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + _REAP_SECONDS
        waiting = set(children)
        while waiting and time.monotonic() < deadline:
            for pid in list(waiting):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    waiting.discard(pid)
            if waiting:
                time.sleep(0.005)
        swept += len(children)
    if swept:
        log.info("killed %d processes commands had left behind", swept)
    return swept
