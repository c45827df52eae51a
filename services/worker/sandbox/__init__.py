"""Where shell commands run: never in the worker, always in a sandbox that holds no secret.

One interface, two backends, chosen by AION_SANDBOX (`auto` by default):
- `service` (remote.py): the `sandbox` container of compose and k8s, over HTTP with a credential
  of its own. Another uid, no view of the worker's processes or files, only the workspace
  volume, no route to PostgreSQL or Redis.
- `bubblewrap` (bubblewrap.py): for `make dev` and the tests, each command in fresh namespaces
  (user, pid, network, ipc, uts), another uid, only the workspace mounted writable, no network.
`auto` takes the service when AION_SANDBOX_URL is set, else bubblewrap when it is installed and
works here. With neither, the shell plugin does not load and `shell_run` refuses: a command is
never run unsandboxed.
"""

from __future__ import annotations

import logging
import shutil
from typing import Protocol

from services.worker.settings import WorkerSettings
from shared.sandbox import CommandResult

log = logging.getLogger("aion.worker.sandbox")

NO_SANDBOX = (
    "shell commands run only in a sandbox, and this worker has none: run the `sandbox` service "
    "(compose and k8s set AION_SANDBOX_URL and AION_SANDBOX_TOKEN) or install bubblewrap "
    "(`apt-get install bubblewrap`) for the local one"
)


class SandboxError(Exception):
    """The sandbox could not run the command (not the command failing): shown to the model."""


class Sandbox(Protocol):
    name: str

    async def run(self, command: str, *, time_limit: float) -> CommandResult:
        """Run `command` with /bin/sh -c in the workspace; raises SandboxError."""
        ...

    async def aclose(self) -> None: ...


class Unavailable:
    """No sandbox: every command is refused, with the reason."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def run(self, command: str, *, time_limit: float) -> CommandResult:
        raise SandboxError(self.reason)

    async def aclose(self) -> None:
        return None


def configured_backend(settings: WorkerSettings) -> str | None:
    """The backend the settings pick, without starting anything (None: there is none)."""
    auto = settings.aion_sandbox == "auto"
    if settings.aion_sandbox == "service" or (auto and settings.aion_sandbox_url):
        return "service"
    if shutil.which(settings.aion_sandbox_bwrap) is not None:
        return "bubblewrap"
    return None


async def open_sandbox(settings: WorkerSettings) -> Sandbox:
    """The sandbox this worker runs commands in; bubblewrap is tried once before it is used."""
    backend = configured_backend(settings)
    if backend == "service":
        from services.worker.sandbox.remote import RemoteSandbox

        assert settings.aion_sandbox_url is not None and settings.aion_sandbox_token is not None
        log.info("shell commands run in the sandbox service at %s", settings.aion_sandbox_url)
        return RemoteSandbox(
            settings.aion_sandbox_url, settings.aion_sandbox_token.get_secret_value()
        )
    if backend is None:
        if settings.aion_sandbox == "bubblewrap":
            return _unavailable(f"{settings.aion_sandbox_bwrap!r} is not installed: {NO_SANDBOX}")
        return _unavailable(NO_SANDBOX)
    from services.worker.sandbox.bubblewrap import BubblewrapSandbox

    bwrap = shutil.which(settings.aion_sandbox_bwrap)
    assert bwrap is not None
    sandbox = BubblewrapSandbox(bwrap, settings.aion_workspace_dir)
    problem = await sandbox.probe()
    if problem is not None:
        return _unavailable(f"bubblewrap does not work on this machine ({problem}): {NO_SANDBOX}")
    log.info("shell commands run under bubblewrap (%s)", bwrap)
    return sandbox


def _unavailable(reason: str) -> Unavailable:
    log.warning("no sandbox for shell commands: %s", reason)
    return Unavailable(reason)
