"""What an approved shell command can see and reach (issue 16): the real worker, the fake LLM
calling `shell_run`, and the local sandbox backend (bubblewrap) the worker picks by itself.

Each check reads, from inside a command, what an attacker would: every environment it can
find, the worker's processes, the owner's plugin folder, and the test's own Redis and
PostgreSQL. None of the worker's secrets may show and nothing may answer; the workspace must
still be readable and writable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import PLUGINS_DIR
from tests.plugin_helpers import run_tool
from tests.stack import ROOT, Stack
from tests.test_plugin_shell import shell_allowed, shell_on  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("shell_allowed")

# Names whose values a command must never see.
SECRET_NAMES = ("DATABASE_URL", "REDIS_URL")
SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")


def secret_values(env: dict[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in env.items()
        if value and len(value) >= 8 and (name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES))
    }


async def shell(client: httpx.AsyncClient, channel: str, command: str) -> dict[str, object]:
    result = await run_tool(client, channel, "shell_run", command=command, timeout_seconds=20)
    assert result["ok"] is True, result
    shown: dict[str, object] = result["result"]
    return shown


async def test_no_environment_a_command_can_read_holds_a_secret(
    client: httpx.AsyncClient,
    channel: str,
    stack: Stack,
    workspace_dir: Path,
) -> None:
    secrets = secret_values(stack.env)
    assert {"AION_API_TOKEN", "DATABASE_URL", "OPENAI_API_KEY"} <= set(secrets)
    # Into a file of the workspace: the tool's answer is capped, the file is not.
    shown = await shell(
        client,
        channel,
        "{ env; for f in /proc/[0-9]*/environ; do echo \"== $f\"; tr '\\0' '\\n' < $f; done;"
        " cat /proc/*/environ; echo; cat /proc/[0-9]*/cmdline | tr '\\0' ' ';"
        f" }} > {channel}.dump 2>&1",
    )
    assert shown["exit_code"] == 0, shown
    output = (workspace_dir / f"{channel}.dump").read_text(errors="replace")
    assert "PATH=" in output  # the command's own environment was read
    leaked = [name for name, value in secrets.items() if value in output]
    assert leaked == [], f"a command read {leaked}"
    # The worker and the rest of the stack are not even visible as processes.
    assert "services.worker" not in output and "services.api" not in output, output


async def test_a_command_runs_as_another_user_without_the_worker_s_files(
    client: httpx.AsyncClient, channel: str
) -> None:
    planted = PLUGINS_DIR / f"{channel}.planted"
    shown = await shell(
        client,
        channel,
        f"id -u; ls {PLUGINS_DIR}; touch {planted} 2>&1;"
        f" ls {ROOT} 2>&1; ls /data/plugins 2>&1; cat /etc/shadow 2>&1; true",
    )
    output = str(shown["output"])
    uid = output.splitlines()[0]
    assert uid != str(os.getuid()), output
    assert "testkit" not in output, f"the plugin folder is visible:\n{output}"
    exists = planted.exists()
    planted.unlink(missing_ok=True)
    assert not exists, "a command wrote into the plugin folder"
    assert "pyproject.toml" not in output and "root:" not in output, output


def _store_targets(redis_url: str, database_url: str) -> list[list[object]]:
    """Every way to the test's stores: Redis' TCP port, PostgreSQL's unix socket (the embedded
    server) or TCP port, and the usual ports on loopback."""
    redis = urlsplit(redis_url)
    targets: list[list[object]] = [["tcp", redis.hostname or "127.0.0.1", redis.port or 6379]]
    database = urlsplit(database_url)
    socket_dir = parse_qs(database.query).get("host", [None])[0] or (
        database.hostname if (database.hostname or "").startswith("/") else None
    )
    port = int(parse_qs(database.query).get("port", [database.port or 5432])[0])
    if socket_dir:
        targets.append(["unix", f"{socket_dir}/.s.PGSQL.{port}"])
    else:
        targets.append(["tcp", database.hostname or "127.0.0.1", port])
    targets += [["tcp", "127.0.0.1", 5432], ["tcp", "127.0.0.1", 6379]]
    return targets


CONNECT = """
import json, socket, sys
for target in json.loads(sys.argv[1]):
    kind, *where = target
    family = socket.AF_UNIX if kind == "unix" else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(3)
    try:
        sock.connect(where[0] if kind == "unix" else (where[0], where[1]))
        print("REACHED", target)
    except OSError as exc:
        print("unreachable", target, type(exc).__name__)
    finally:
        sock.close()
"""


async def test_a_command_reaches_neither_redis_nor_postgresql(
    client: httpx.AsyncClient,
    channel: str,
    redis_url: str,
    database_url: str,
) -> None:
    targets = _store_targets(redis_url, database_url)
    assert targets[1][0] == "unix" or os.environ.get("DATABASE_URL")
    quoted = json.dumps(targets).replace("'", "'\\''")
    script = CONNECT.replace("'", "'\\''")
    shown = await shell(client, channel, f"python3 -c '{script}' '{quoted}'")
    output = str(shown["output"])
    assert output.count("unreachable") == len(targets), output
    assert "REACHED" not in output, output


async def test_the_workspace_stays_readable_and_writable(
    client: httpx.AsyncClient, channel: str, workspace_dir: Path
) -> None:
    (workspace_dir / f"{channel}.in").write_text("from the owner\n")
    shown = await shell(
        client, channel, f"cat {channel}.in; mkdir -p {channel}.d; echo made > {channel}.d/out"
    )
    assert shown["exit_code"] == 0 and shown["output"] == "from the owner\n", shown
    assert (workspace_dir / f"{channel}.d" / "out").read_text() == "made\n"
