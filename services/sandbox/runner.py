"""Runs the commands and programs: in the workspace, a bare environment, a bounded number at once.

A command is /bin/sh -c, run to its end; a program (a stdio MCP server, programs.py) is started
without a shell and lives as long as its WebSocket. Each is its own session and process group,
killed whole when it ends (shared/command.py). A process that left its group (setsid, a double
fork) is re-parented to this service, a child subreaper (__main__.py); whenever no command is
running and no program is starting, every child left but the live programs is such a stray and
is killed and reaped, so nothing a command or a program started outlives it for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from shared.command import kill_group, run_program
from shared.sandbox import MAX_LINE_BYTES, CommandResult

log = logging.getLogger("aion.sandbox")

COMMAND_PATH = "/usr/local/bin:/usr/bin:/bin"
_REAP_SECONDS = 1.0
_PROGRAM_REAP_SECONDS = 5.0


class Busy(Exception):
    """As many commands (or programs) as allowed are running already."""


class _ProgramProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """The usual streams, lines up to MAX_LINE_BYTES, and an event when the program has exited
    and been reaped: `Process.wait()` also waits for the pipes, which a detached child may hold
    open until the sweep."""

    def __init__(self) -> None:
        super().__init__(limit=MAX_LINE_BYTES, loop=asyncio.get_running_loop())
        self.exited = asyncio.Event()

    def process_exited(self) -> None:
        super().process_exited()
        self.exited.set()


@dataclass(frozen=True, slots=True)
class Program:
    process: asyncio.subprocess.Process
    exited: asyncio.Event


def command_env(workspace: Path) -> dict[str, str]:
    """All a command's environment: nothing of the service's own."""
    return {"PATH": COMMAND_PATH, "HOME": str(workspace), "LANG": "C.UTF-8", "TERM": "dumb"}


class CommandRunner:
    def __init__(
        self, workspace: Path, *, max_commands: int, max_seconds: float, max_programs: int
    ) -> None:
        self._configured = workspace
        self._max_commands = max_commands
        self._max_seconds = max_seconds
        self._max_programs = max_programs
        self._running = 0
        self._program_slots = 0  # programs live or about to start
        self._starting = 0  # programs being spawned, their pid not yet known
        self._programs: set[int] = set()  # live programs' pids: children, but never strays

    @property
    def running(self) -> int:
        return self._running

    @property
    def programs(self) -> frozenset[int]:
        return frozenset(self._programs)

    def acquire(self) -> None:
        """Take a slot (synchronously, so two requests cannot both take the last), or Busy."""
        if self._running >= self._max_commands:
            raise Busy
        self._running += 1

    def release(self) -> None:
        self._running -= 1
        self.sweep_when_idle()

    def acquire_program(self) -> None:
        """Take one of the programs' slots (they are not commands' slots), or Busy."""
        if self._program_slots >= self._max_programs:
            raise Busy
        self._program_slots += 1

    def release_program(self) -> None:
        self._program_slots -= 1

    def workspace(self) -> Path:
        self._configured.mkdir(parents=True, exist_ok=True)
        return self._configured.resolve(strict=True)

    async def run(self, command: str, timeout_seconds: float) -> CommandResult:
        """Run in a slot taken with `acquire` (the caller releases it)."""
        workspace = self.workspace()
        result = await run_program(
            ["/bin/sh", "-c", command],
            cwd=workspace,
            env=command_env(workspace),
            time_limit=min(timeout_seconds, self._max_seconds),
        )
        log.info("command ended: exit code %s after %d ms", result.exit_code, result.duration_ms)
        return result

    async def start_program(self, argv: list[str], own_env: dict[str, str]) -> Program:
        """Start a program (in a slot taken with `acquire_program`) with pipes for its stdin,
        stdout and stderr; end it with `end_program`. No sweep runs until its pid is known:
        it would look like a stray."""
        workspace = self.workspace()
        loop = asyncio.get_running_loop()
        self._starting += 1
        try:
            transport, protocol = await loop.subprocess_exec(
                _ProgramProtocol,
                *argv,
                cwd=workspace,
                env={**command_env(workspace), **own_env},
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own session and process group, to kill all of it
            )
            process = asyncio.subprocess.Process(transport, protocol, loop)
            self._programs.add(process.pid)
        finally:
            self._starting -= 1
        return Program(process, protocol.exited)

    async def end_program(self, program: Program) -> None:
        """Kill its whole process group and reap it; then sweep what it detached."""
        process = program.process
        kill_group(process.pid)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_PROGRAM_REAP_SECONDS):
                    await program.exited.wait()
        finally:
            if process.stdin is not None:
                process.stdin.close()
            self._programs.discard(process.pid)
        log.info("program ended: exit code %s", process.returncode)
        self.sweep_when_idle()

    def kill_programs(self) -> None:
        """At shutdown: no program outlives the service."""
        for pid in self._programs:
            kill_group(pid)

    def sweep_when_idle(self) -> int:
        if self._running or self._starting:
            return 0
        return sweep_strays(exclude=frozenset(self._programs))


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


def sweep_strays(exclude: frozenset[int] = frozenset()) -> int:
    """Kill and reap every child of this process but the live programs in `exclude`. Only call
    it while no command runs and no program starts: then each other child is something a
    command or a program left behind. Synchronous, so nothing starts meanwhile."""
    swept = 0
    for _ in range(32):  # a killed stray's own children come to us next
        children = [pid for pid in _children(os.getpid()) if pid not in exclude]
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
        log.info("killed %d processes commands or programs had left behind", swept)
    return swept
