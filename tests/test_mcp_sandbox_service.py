"""stdio MCP servers in the sandbox service (compose, k8s): the worker's real MCP manager and
sandbox client, a real sandbox service process (tests/test_sandbox_service.py), and the SDK's
server (tests/fakemcp/server.py) started by the service and bridged over its WebSocket.

What is checked: tools are listed and called; the server's environment is the bare basics
plus its own `env`; removing, disabling or stopping kills it; what it detaches is swept while
it, alive, is not; the number of servers is bounded; only the workers' credential gets in; the
protocol refuses a bad start, a message that is not one line and a line too long; debug logs
show a server's stderr but not the credential; with no sandbox at all, stdio is refused.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sysconfig
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import mcp_types as types
import pytest

from services.worker.mcp.manager import McpManager
from services.worker.sandbox import NO_SANDBOX, Unavailable
from services.worker.sandbox.remote import RemoteSandbox
from services.worker.tools.registry import ToolError
from shared.mcp import McpServerSpec, StdioServer
from shared.sandbox import (
    BAD_MESSAGE,
    LINE_TOO_LONG,
    MAX_LINE_BYTES,
    PROGRAM_EXITED,
    PROGRAM_PATH,
    START_FAILED,
)
from tests.conftest import FAKEMCP_DIR
from tests.helpers import eventually
from tests.test_sandbox_service import CANARY, RunningSandbox, running_sandbox

SERVER = str(FAKEMCP_DIR / "server.py")
PURELIB = sysconfig.get_paths()["purelib"]
MAX_SERVERS = 2
CONNECT_SECONDS = 60.0  # a Python server's start on a busy two-core machine
SWEEP_SECONDS = 5.0  # services/sandbox/app.py


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox({"AION_SANDBOX_MAX_SERVERS": str(MAX_SERVERS)}) as running:
        yield running


@pytest.fixture
async def manager(sandbox: RunningSandbox) -> AsyncIterator[McpManager]:
    client = sandbox.client()
    mcp = McpManager(client, connect_timeout=CONNECT_SECONDS, stdio_mounts=[])
    yield mcp
    await mcp.aclose()
    await client.aclose()
    # Its servers' slots come back once the sandbox has reaped them: the next test gets all.
    await eventually(lambda: all_ended(sandbox), "the sandbox to end every server", 30)


def all_ended(sandbox: RunningSandbox) -> bool:
    logged = sandbox.log.read_text()
    return logged.count("program started:") == logged.count("program ended:")


def spec(name: str, enabled: bool = True, **env: str) -> McpServerSpec:
    # The system's python3 (the sandbox user may not run the tests' own), with the SDK.
    server = StdioServer(
        name=name,
        transport="stdio",
        command="python3",
        args=[SERVER, "stdio"],
        env={"PYTHONPATH": PURELIB, **env},
    )
    return McpServerSpec(server=server, enabled=enabled)


async def call(manager: McpManager, server: str, tool: str, **args: Any) -> str:
    connection = manager._connections[server]
    result = await connection.call(tool, args)
    assert not result.is_error, result
    (content,) = result.content
    assert isinstance(content, types.TextContent)
    return content.text


def status(manager: McpManager, name: str) -> dict[str, Any]:
    (found,) = [s for s in manager.statuses() if s.name == name]
    return found.model_dump()


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_tools_are_listed_and_called_with_a_bare_environment(
    manager: McpManager, sandbox: RunningSandbox
) -> None:
    await manager.configure([spec("bare", SERVER_TOKEN="its-own-secret")], {}, connect=True)
    shown = status(manager, "bare")
    assert shown["status"] == "connected", shown
    assert {"mcp__bare__add", "mcp__bare__environ"} <= {t["name"] for t in shown["tools"]}
    assert set(manager.tools) >= {"mcp__bare__add", "mcp__bare__echo"}

    assert await call(manager, "bare", "add", a=2, b=40) == "42"
    environ = json.loads(await call(manager, "bare", "environ"))
    assert set(environ) == {"PATH", "HOME", "LANG", "TERM", "PYTHONPATH", "SERVER_TOKEN"}, environ
    assert environ["SERVER_TOKEN"] == "its-own-secret"
    assert environ["HOME"] == str(sandbox.workspace.resolve())
    assert CANARY not in json.dumps(environ)
    # A long answer is one long line: well under the limit, it goes through whole.
    assert len(await call(manager, "bare", "big", size=1_000_000)) == 1_000_000


async def test_removing_disabling_or_stopping_kills_the_server(manager: McpManager) -> None:
    async def started() -> int:
        await manager.configure([spec("life")], {}, connect=True)
        assert status(manager, "life")["status"] == "connected", status(manager, "life")
        pid = int(await call(manager, "life", "pid"))
        assert alive(pid)
        return pid

    pid = await started()
    await manager.configure([spec("life", enabled=False)], {}, connect=True)
    await eventually(lambda: not alive(pid), "the disabled server's process to end", 15)

    pid = await started()
    await manager.configure([], {}, connect=True)
    await eventually(lambda: not alive(pid), "the removed server's process to end", 15)

    pid = await started()
    await manager.aclose()  # the worker stopping
    await eventually(lambda: not alive(pid), "the stopped worker's server to end", 15)


async def test_a_crash_ends_the_connection_and_the_server_comes_back(
    manager: McpManager, sandbox: RunningSandbox
) -> None:
    await manager.configure([spec("crashy")], {}, connect=True)
    pid = int(await call(manager, "crashy", "pid"))
    connection = manager._connections["crashy"]
    with pytest.raises(Exception, match="crashy"):
        await call(manager, "crashy", "crash")
    assert not alive(pid)
    assert "program ended: exit code 3" in sandbox.log.read_text()

    async def back() -> bool:
        try:
            return await call(manager, "crashy", "echo", text="b") == "b"
        except ToolError:
            return False

    await eventually(back, "the server to be started again", CONNECT_SECONDS)
    assert connection.connected and manager._connections["crashy"] is connection


async def test_a_stray_is_swept_while_the_live_server_is_not(
    manager: McpManager, sandbox: RunningSandbox
) -> None:
    await manager.configure([spec("daemon")], {}, connect=True)
    server = int(await call(manager, "daemon", "pid"))
    stray = int(await call(manager, "daemon", "detach", seconds=76.5))
    # Swept at the service's next idle moment, or at once when a command ends.
    await eventually(
        lambda: not alive(stray), "the detached process to be swept", 3 * SWEEP_SECONDS
    )
    result = await sandbox.client().run("true", time_limit=10)
    assert result.exit_code == 0
    assert alive(server)
    assert await call(manager, "daemon", "add", a=1, b=2) == "3"
    assert "killed 1 processes commands or programs had left behind" in sandbox.log.read_text()


async def test_the_number_of_servers_is_bounded(manager: McpManager) -> None:
    names = [f"many{n}" for n in range(MAX_SERVERS + 1)]
    await manager.configure([spec(name) for name in names], {}, connect=True)
    statuses: dict[str, dict[str, Any]] = {}

    def settled() -> bool:
        # The earlier tests' servers may hold slots for a moment after their sockets closed.
        statuses.update({name: status(manager, name) for name in names})
        return [s["status"] for s in statuses.values()].count("connected") == MAX_SERVERS

    await eventually(settled, f"{MAX_SERVERS} servers to be connected", CONNECT_SECONDS)
    refused = [s for s in statuses.values() if s["status"] == "error"]
    assert len(refused) == 1, statuses
    assert "as many MCP servers as it allows (AION_SANDBOX_MAX_SERVERS)" in refused[0]["error"]
    # One removed: the refused one gets its slot when it retries.
    kept = [name for name in names if statuses[name]["status"] == "connected"][1:]
    waiting = refused[0]["name"]
    await manager.configure([spec(name) for name in [*kept, waiting]], {}, connect=True)

    async def connected() -> bool:
        return bool(status(manager, waiting)["status"] == "connected")

    await eventually(connected, "the refused server to start in the freed slot", CONNECT_SECONDS)


async def test_only_the_workers_credential_gets_in(sandbox: RunningSandbox) -> None:
    wrong = RemoteSandbox(sandbox.url, secrets.token_urlsafe(32))
    mcp = McpManager(wrong, connect_timeout=CONNECT_SECONDS, stdio_mounts=[])
    try:
        await mcp.configure([spec("stranger")], {}, connect=True)
        shown = status(mcp, "stranger")
        assert shown["status"] == "error" and "refused the worker's credential" in shown["error"]
    finally:
        await mcp.aclose()
        await wrong.aclose()
    url = sandbox.url + PROGRAM_PATH
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url, headers=headers)
            assert refused.value.status == 401


async def test_with_no_sandbox_at_all_stdio_is_refused_clearly() -> None:
    mcp = McpManager(Unavailable(NO_SANDBOX), connect_timeout=CONNECT_SECONDS, stdio_mounts=[])
    try:
        await mcp.configure([spec("nowhere")], {}, connect=True)
        shown = status(mcp, "nowhere")
    finally:
        await mcp.aclose()
    assert shown["status"] == "error", shown
    assert "stdio MCP servers run only in a sandbox, and this worker has none" in shown["error"]


async def open_socket(
    http: aiohttp.ClientSession, sandbox: RunningSandbox
) -> aiohttp.ClientWebSocketResponse:
    """A program socket. The earlier tests' servers give their slots back as the sandbox
    reaps them, so a 429 is tried again until one is free."""
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_SECONDS
    while True:
        try:
            return await http.ws_connect(
                sandbox.url + PROGRAM_PATH, headers=headers, max_msg_size=2 * MAX_LINE_BYTES
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 429 or loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def program(sandbox: RunningSandbox, start: dict[str, Any], *lines: str) -> list[Any]:
    """Start a program over the raw protocol, send `lines`, and collect what comes back
    until the sandbox closes: lines, then (close code, reason)."""
    got: list[Any] = []
    async with aiohttp.ClientSession() as http, await open_socket(http, sandbox) as ws:
        await ws.send_str(json.dumps(start))
        for line in lines:
            await ws.send_str(line)
        while (message := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            got.append(message.data if len(message.data) < 100 else len(message.data))
        assert message.type == aiohttp.WSMsgType.CLOSE, message
        got.append((message.data, message.extra))
    return got


async def test_the_protocol_refuses_what_it_cannot_bridge(sandbox: RunningSandbox) -> None:
    reply = "read line; echo got $line; exit 4"
    echo = await program(sandbox, {"command": "/bin/sh", "args": ["-c", reply]}, "hi")
    assert echo == ["got hi", (PROGRAM_EXITED, "the program exited with exit code 4")], echo

    bad = await program(sandbox, {"args": []})
    assert bad == [(BAD_MESSAGE, "bad start message: command: Field required")], bad
    secret = await program(sandbox, {"command": "/bin/true", "env": {"AION_SECRET_KEY": "x"}})
    assert secret[-1][0] == BAD_MESSAGE and "'AION_SECRET_KEY' may not be set" in secret[-1][1]
    missing = await program(sandbox, {"command": "/nonexistent/server"})
    assert missing == [
        (START_FAILED, "cannot start /nonexistent/server: No such file or directory")
    ]

    async with aiohttp.ClientSession() as http, await open_socket(http, sandbox) as ws:
        await ws.send_str(json.dumps({"command": "/bin/cat"}))
        await ws.send_str("one")
        assert (await ws.receive()).data == "one"
        await ws.send_str("two\nthree")
        closed = await ws.receive()
        assert (closed.data, closed.extra) == (BAD_MESSAGE, "a message must be one line")

    flood = f"head -c {MAX_LINE_BYTES + 10} /dev/zero | tr '\\0' x; echo"
    long = await program(sandbox, {"command": "/bin/sh", "args": ["-c", flood]})
    assert long == [(LINE_TOO_LONG, f"the program wrote a line over {MAX_LINE_BYTES} bytes")]


async def test_debug_logs_show_stderr_but_neither_the_credential_nor_the_messages() -> None:
    with running_sandbox({"AION_LOG_LEVEL": "DEBUG"}) as debug:
        script = "read line; echo oops-on-stderr >&2; echo $line"
        start = {"command": "/bin/sh", "args": ["-c", script], "env": {"OWN_KEY": "own-value-42"}}
        got = await program(debug, start, "said-by-the-worker")
        assert got[0] == "said-by-the-worker", got

        def logged() -> bool:
            return "oops-on-stderr" in debug.log.read_text()

        await eventually(logged, "the program's stderr in the debug log", 10)
        text = debug.log.read_text()
        assert debug.token not in text
        assert "own-value-42" not in text and "said-by-the-worker" not in text
