"""The local sandbox (`make dev`, tests): each command under bubblewrap (`bwrap`).

Fresh user, pid, network, ipc and uts namespaces: the command runs as uid 10002 (the sandbox
image's user), sees only its own processes in a new /proc, has only a loopback interface (no
route to PostgreSQL, Redis, the LAN or cloud metadata), and finds /usr and a few harmless files
of /etc read-only, a private /tmp, and the workspace, the one folder it may write. No
environment comes in: bwrap itself is started with an empty one (its /proc/1/environ would
show it to the command), the command gets PATH, HOME, LANG and TERM. `--die-with-parent`: it
dies with the worker; killing bwrap (time limit, cancelled turn) ends the pid namespace and
with it everything the command started.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from shared.command import run_program
from shared.sandbox import CommandResult

SANDBOX_UID = 10002
SANDBOX_GID = 10001
COMMAND_PATH = "/usr/local/bin:/usr/bin:/bin"
# Top-level folders that are (or link into) /usr on a merged-/usr system.
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What of /etc programs need (the dynamic linker, certificates, time zone, names); not the
# rest, which may hold a machine's secrets.
ETC_FILES = (
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ssl/certs",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
)
PROBE_SECONDS = 15.0


def program_env(workspace: Path, own: dict[str, str]) -> dict[str, str]:
    """The whole environment of a sandboxed program: the basics and its own variables."""
    return {
        "PATH": COMMAND_PATH,
        "HOME": str(workspace),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        **own,
    }


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


class BubblewrapSandbox:
    name = "bubblewrap"

    def __init__(self, bwrap: str, workspace: Path) -> None:
        self._bwrap = bwrap
        self._configured = workspace

    def _workspace(self) -> Path:
        self._configured.mkdir(parents=True, exist_ok=True)
        return self._configured.resolve(strict=True)

    def argv(self, command: str, workspace: Path) -> list[str]:
        where = str(workspace)
        return [
            *self._isolated(workspace),
            "--clearenv",
            *("--setenv", "PATH", COMMAND_PATH),
            *("--setenv", "HOME", where),
            *("--setenv", "LANG", "C.UTF-8"),
            *("--setenv", "TERM", "dumb"),
            "--",
            "/bin/sh",
            "-c",
            command,
        ]

    def program_argv(self, program: list[str], workspace: Path, mounts: list[Path]) -> list[str]:
        """A long-lived program (a stdio MCP server) in the same isolation as a command; its
        environment is bwrap's own, so the caller starts bwrap with only what it may see
        (`program_env`). `mounts`: folders it sees read-only (where its program lives)."""
        extra = [arg for path in mounts for arg in ("--ro-bind-try", str(path), str(path))]
        return [*self._isolated(workspace, extra), "--", *program]

    def workspace(self) -> Path:
        return self._workspace()

    def _isolated(self, workspace: Path, extra: list[str] | None = None) -> list[str]:
        where = str(workspace)
        return [
            self._bwrap,
            "--unshare-all",
            "--unshare-user",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_GID),
            "--hostname",
            "aion-sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            *_system_mounts(),
            *("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"),  # noqa: S108 - its own
            *(extra or []),
            *("--bind", where, where, "--chdir", where),
        ]

    async def run(self, command: str, *, time_limit: float) -> CommandResult:
        workspace = await asyncio.to_thread(self._workspace)
        return await run_program(
            self.argv(command, workspace), cwd=workspace, env={}, time_limit=time_limit
        )

    async def probe(self) -> str | None:
        """None when a command runs here; else what bwrap said (user namespaces off, ...)."""
        try:
            result = await self.run("true", time_limit=PROBE_SECONDS)
        except OSError as exc:
            return str(exc)
        if result.exit_code == 0:
            return None
        return result.output.strip()[-300:] or f"exit code {result.exit_code}"

    async def aclose(self) -> None:
        return None
