"""The sandbox service as a real local process, driven by the worker's real client.

Run as the root these machines test as, the service is started as uid 10002 (the image's
sandbox user, through `setpriv`), so its commands are another uid than the test and than the
service's own secrets-free environment; as another user it runs as that user. What is checked:
only the workers' credential gets in, a command sees a bare environment and the workspace, it
cannot read the service's memory or environment, limits kill the whole command (and what it
detached), a closed connection kills it, and a busy sandbox says so.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.worker.sandbox import SandboxError
from services.worker.sandbox.remote import RemoteSandbox
from shared.sandbox import RUN_PATH, token_digest
from tests.helpers import eventually
from tests.stack import ROOT, free_port

SANDBOX_UID, SANDBOX_GID = 10002, 10001
AS_SANDBOX_USER = (
    ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups"]
    if os.geteuid() == 0
    else []
)
CANARY = "canary-" + secrets.token_hex(16)  # in the service's environment, never a command's


@dataclass
class RunningSandbox:
    url: str
    token: str
    workspace: Path
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, token: str | None = None) -> RemoteSandbox:
        return RemoteSandbox(self.url, token or self.token)


def _running(marker: str) -> bool:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode == 0


def _eventually_gone(marker: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(marker):
            return True
        time.sleep(0.1)
    return False


def start_sandbox(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*AS_SANDBOX_USER, sys.executable, "-m", "services.sandbox"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def running_sandbox(extra_env: dict[str, str] | None = None) -> Iterator[RunningSandbox]:
    """The service as a real process (as the sandbox user when the tests run as root)."""
    # Not under pytest's own (root-only) temporary folders: the sandbox user must reach it.
    workspace = Path(tempfile.mkdtemp(prefix="aion-sandbox-test-"))
    if AS_SANDBOX_USER:
        os.chown(workspace, SANDBOX_UID, SANDBOX_GID)
    os.chmod(workspace, 0o2775)
    log = Path(tempfile.mkdtemp(prefix="aion-sandbox-log-")) / "sandbox.log"
    token = secrets.token_urlsafe(32)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AION_SANDBOX_PORT": str(port),
        "AION_SANDBOX_TOKEN_SHA256": token_digest(token),
        "AION_WORKSPACE_DIR": str(workspace),
        "AION_SANDBOX_MAX_COMMANDS": "2",
        "AION_LOG_JSON": "true",
        "AION_TEST_CANARY": CANARY,
        **(extra_env or {}),
    }
    process = start_sandbox(env, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    try:
        yield RunningSandbox(url, token, workspace, process, log)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(workspace, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


async def test_only_the_workers_credential_gets_in(sandbox: RunningSandbox) -> None:
    body = {"command": "touch let-in", "timeout_seconds": 5}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        assert (await http.post(RUN_PATH, json=body)).status_code == 401
        wrong = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
        assert (await http.post(RUN_PATH, json=body, headers=wrong)).status_code == 401
        digest = {"Authorization": f"Bearer {token_digest(sandbox.token)}"}
        assert (await http.post(RUN_PATH, json=body, headers=digest)).status_code == 401
    assert not (sandbox.workspace / "let-in").exists()
    with pytest.raises(SandboxError, match="refused the worker's credential"):
        await sandbox.client(secrets.token_urlsafe(32)).run("true", time_limit=5)


async def test_a_command_gets_the_workspace_and_a_bare_environment(
    sandbox: RunningSandbox,
) -> None:
    result = await sandbox.client().run("pwd; id -u; env | sort", time_limit=10)
    assert result.exit_code == 0, result
    lines = result.output.splitlines()
    assert lines[0] == str(sandbox.workspace.resolve())
    if AS_SANDBOX_USER:
        assert lines[1] == str(SANDBOX_UID)
    names = {line.split("=", 1)[0] for line in lines[2:]}
    assert names <= {"PATH", "HOME", "LANG", "TERM", "PWD", "SHLVL", "_"}, result.output
    assert CANARY not in result.output


async def test_a_command_cannot_read_the_service_s_environment_or_memory(
    sandbox: RunningSandbox,
) -> None:
    pid = sandbox.process.pid  # setpriv execs the service: the same process
    result = await sandbox.client().run(
        f"cat /proc/{pid}/environ; head -c 16 /proc/{pid}/mem; cat /proc/*/environ;"
        # A process of this uid that did not harden itself: its environment is readable.
        ' AION_MINE=readable sleep 5 & until [ "$(cat /proc/$!/comm)" = sleep ]; do :; done;'
        " tr '\\0' '\\n' < /proc/$!/environ",  # once the child has become `sleep`
        time_limit=10,
    )
    assert CANARY not in result.output, result.output
    assert f"/proc/{pid}/environ: Permission denied" in result.output, result.output
    assert "AION_MINE=readable" in result.output, result.output
    if AS_SANDBOX_USER:
        assert os.stat(f"/proc/{pid}/environ").st_uid == 0  # non-dumpable: root's now


async def test_files_stay_writable_for_the_workers_group(sandbox: RunningSandbox) -> None:
    result = await sandbox.client().run("echo made > made.txt; mkdir -p folder", time_limit=10)
    assert result.exit_code == 0, result
    made = os.stat(sandbox.workspace / "made.txt")
    assert made.st_mode & 0o020, oct(made.st_mode)  # group-writable (umask 002)
    if AS_SANDBOX_USER:
        assert made.st_gid == SANDBOX_GID and made.st_uid == SANDBOX_UID


async def test_the_time_limit_kills_the_whole_command(sandbox: RunningSandbox) -> None:
    started = time.monotonic()
    result = await sandbox.client().run(
        "echo before; sleep 71.5 & sleep 72.5; echo never", time_limit=1
    )
    assert time.monotonic() - started < 5
    assert result.timed_out and result.exit_code is None
    assert result.output == "before\n"
    assert _eventually_gone("sleep 71.5", 2) and _eventually_gone("sleep 72.5", 2)


async def test_what_a_command_detached_is_killed_too(sandbox: RunningSandbox) -> None:
    result = await sandbox.client().run(
        "setsid sh -c 'sleep 73.5' > /dev/null 2>&1 & echo detached", time_limit=10
    )
    assert result.output == "detached\n"
    assert _eventually_gone("sleep 73.5", 10), "a detached process outlived its command"


async def test_a_closed_connection_kills_the_command(sandbox: RunningSandbox) -> None:
    client = sandbox.client()
    task = asyncio.create_task(client.run("sleep 74.5", time_limit=60))
    deadline = time.monotonic() + 10
    while not _running("sleep 74.5"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    task.cancel()  # as the tool's own time limit or a cancelled turn does
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    assert _eventually_gone("sleep 74.5", 5), "the command outlived its request"


async def test_a_busy_sandbox_says_so_and_output_is_capped(sandbox: RunningSandbox) -> None:
    client = sandbox.client()
    # Two commands that run until the test lets them go (a file appears in the workspace).
    tag = secrets.token_hex(4)
    held = [
        asyncio.create_task(
            client.run(f"until [ -e go ]; do sleep 0.05; done; echo {tag}-{n}", time_limit=30)
        )
        for n in range(2)
    ]
    await eventually(
        lambda: (
            any(t.done() for t in held) or (_running(f"echo {tag}-0") and _running(f"echo {tag}-1"))
        ),
        "both commands to run",
        timeout=10,
    )
    assert not any(t.done() for t in held), held
    with pytest.raises(SandboxError, match="as many commands as it allows"):
        await client.run("true", time_limit=5)
    assert not any(t.done() for t in held)  # the refusal came while both still ran
    (sandbox.workspace / "go").touch()
    results = await asyncio.gather(*held)
    (sandbox.workspace / "go").unlink()
    assert [r.output for r in results] == [f"{tag}-0\n", f"{tag}-1\n"], results
    result = await client.run("seq 1 200000", time_limit=20)
    assert result.truncated and result.output_bytes == sum(len(f"{n}\n") for n in range(1, 200_001))
    assert result.output.startswith("1\n2\n") and result.output.endswith("200000\n")


def test_the_service_will_not_start_without_its_digest_or_as_root(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AION_SANDBOX_PORT": str(free_port())}
    as_user = subprocess.run(
        [*AS_SANDBOX_USER, sys.executable, "-m", "services.sandbox"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert as_user.returncode != 0 and "AION_SANDBOX_TOKEN_SHA256 is not set" in as_user.stderr
    if os.geteuid() == 0:
        as_root = subprocess.run(
            [sys.executable, "-m", "services.sandbox"],
            cwd=ROOT,
            env={**env, "AION_SANDBOX_TOKEN_SHA256": token_digest("x" * 40)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert as_root.returncode != 0 and "refuses to run as root" in as_root.stderr
