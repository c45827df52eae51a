"""The shell plugin end to end: off by default, an approval unless allowed, then a time limit
that kills the whole process group, capped output and a clean environment."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.worker.sandbox import SandboxError, open_sandbox
from services.worker.settings import WorkerSettings
from services.worker.tools.plugins import PluginManager
from shared.command import HEAD_BYTES, TAIL_BYTES, CappedOutput
from tests.helpers import announce_settings_changed, chat
from tests.plugin_helpers import call, plugin_switched, run_tool
from tests.test_agent import of_type
from tests.test_approvals import approve


def test_capped_output_keeps_head_and_tail() -> None:
    output = CappedOutput()
    for n in range(3000):
        output.add(f"{n:05d}\n".encode())
    text = output.text()
    assert output.total == 18_000 and output.truncated
    assert text.startswith("00000\n00001\n") and text.endswith("02998\n02999\n")
    assert f"[… {18_000 - HEAD_BYTES - TAIL_BYTES} bytes of output cut …]" in text
    small = CappedOutput()
    small.add(b"short")
    assert small.text() == "short" and not small.truncated


def test_the_manifest_keeps_it_off_until_enabled() -> None:
    plugins = PluginManager(WorkerSettings(), user_dir=None)
    plugins.load_all()
    assert not plugins.is_enabled("shell") and "shell_run" not in plugins.tools
    plugins.set_states({"shell": True})
    assert plugins.tools["shell_run"].risk == "ask"


def test_without_a_sandbox_the_plugin_does_not_load_and_says_why() -> None:
    plugins = PluginManager(WorkerSettings(aion_sandbox_bwrap="/nonexistent/bwrap"), user_dir=None)
    plugins.load_all()
    plugins.set_states({"shell": True})
    assert "shell_run" not in plugins.tools
    (shell,) = [p for p in plugins.catalog() if p.name == "shell"]
    assert shell.error is not None and "only in a sandbox" in shell.error


async def test_a_sandbox_that_does_not_work_refuses_every_command(tmp_path: Path) -> None:
    for bwrap, reason in (("/nonexistent/bwrap", "not installed"), ("false", "does not work")):
        settings = WorkerSettings(
            aion_sandbox="bubblewrap", aion_sandbox_bwrap=bwrap, aion_workspace_dir=tmp_path
        )
        sandbox = await open_sandbox(settings)
        assert sandbox.name == "none"
        with pytest.raises(SandboxError, match=reason):
            await sandbox.run(f"touch {tmp_path}/ran", time_limit=5)
    assert not (tmp_path / "ran").exists()


def test_the_sandbox_service_needs_its_address_and_credential() -> None:
    with pytest.raises(ValueError, match="needs AION_SANDBOX_URL"):
        WorkerSettings(aion_sandbox="service")
    with pytest.raises(ValueError, match="needs AION_SANDBOX_TOKEN"):
        WorkerSettings(aion_sandbox_url="http://sandbox:7400")
    token = SecretStr("t" * 40)
    settings = WorkerSettings(aion_sandbox_url="http://sandbox:7400", aion_sandbox_token=token)
    assert "AION_SANDBOX_TOKEN" not in settings.env_secrets()  # not a provider key


async def test_shell_is_off_by_default(client: httpx.AsyncClient, channel: str) -> None:
    result = await run_tool(client, channel, "shell_run", command="echo hi")
    assert result["ok"] is False and "no tool named 'shell_run'" in result["result"]


@pytest.fixture
async def shell_on(client: httpx.AsyncClient, db: object) -> AsyncIterator[None]:
    async with plugin_switched(client, db, "shell", enabled=True):
        yield


@pytest.fixture
async def shell_allowed(
    client: httpx.AsyncClient, shell_on: None, db: object, redis_url: str
) -> AsyncIterator[None]:
    response = await client.post(
        "/api/config/settings", json={"tool_permissions": {"shell_run": "allow"}}
    )
    assert response.status_code == 200
    yield
    await db.execute("DELETE FROM settings")  # type: ignore[attr-defined]
    await announce_settings_changed(redis_url)


async def test_a_command_waits_for_the_owner(
    client: httpx.AsyncClient, channel: str, shell_on: None, workspace_dir: Path
) -> None:
    _, events = await chat(client, call("shell_run", command=f"touch {channel}.ran"), channel)
    # The approval, then its question as text (kept for old clients), then the end.
    (approval,) = [e for e in events if e.type == "approval"]
    assert events[-1].type == "done" and events[-1].data["approval_pending"] is True, events
    assert approval.data["args"] == {"command": f"touch {channel}.ran"}
    assert not any(e.type == "tool_result" for e in events)
    assert not (workspace_dir / f"{channel}.ran").exists()
    # Approved, it runs exactly as shown.
    resumed = await approve(client, events[-1].data["approval_id"])
    (result,) = of_type(resumed, "tool_result")
    assert result["ok"] is True and result["result"]["exit_code"] == 0, result
    assert (workspace_dir / f"{channel}.ran").exists()


async def test_allowed_commands_run_in_the_workspace_without_secrets(
    client: httpx.AsyncClient, channel: str, shell_allowed: None, workspace_dir: Path
) -> None:
    result = await run_tool(
        client,
        channel,
        "shell_run",
        command='pwd; echo "key=$OPENAI_API_KEY db=$DATABASE_URL"; echo oops >&2; exit 3',
    )
    assert result["ok"] is True, result
    assert result["result"]["exit_code"] == 3
    assert result["result"]["output"] == f"{workspace_dir.resolve()}\nkey= db=\noops\n"


def _running(marker: str) -> bool:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, check=False)
    return found.returncode == 0


async def test_timeout_kills_the_whole_process_group(
    client: httpx.AsyncClient, channel: str, shell_allowed: None
) -> None:
    started = time.monotonic()
    result = await run_tool(
        client,
        channel,
        "shell_run",
        command="echo before; sleep 61.5 & sleep 62.5; echo never",
        timeout_seconds=1,
    )
    assert time.monotonic() - started < 6
    assert result["ok"] is False
    assert "did not finish within 1 s" in result["result"] and "before" in result["result"]
    assert "never" not in result["result"]
    assert not _running("sleep 61.5") and not _running("sleep 62.5")
    # A command that leaves a child behind in the background: that child goes too.
    result = await run_tool(client, channel, "shell_run", command="sleep 63.5 & echo left")
    assert result["ok"] is True and result["result"]["output"] == "left\n"
    assert not _running("sleep 63.5")


async def test_output_is_capped(
    client: httpx.AsyncClient, channel: str, shell_allowed: None
) -> None:
    result = await run_tool(client, channel, "shell_run", command="seq 1 200000")
    assert result["ok"] is True
    shown = result["result"]
    expected_bytes = sum(len(f"{n}\n") for n in range(1, 200_001))
    assert shown["output_bytes"] == expected_bytes and shown["truncated"] is True
    assert shown["output"].startswith("1\n2\n3\n") and shown["output"].endswith("199999\n200000\n")
    assert "bytes of output cut" in shown["output"]
    assert len(shown["output"]) < HEAD_BYTES + TAIL_BYTES + 100
