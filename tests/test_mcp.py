"""The owner's MCP servers: managed through the API, their tools offered under AION's rules.

Real MCP servers (tests/fakemcp/server.py, the SDK's server side) over streamable HTTP in a
subprocess, and over stdio under bubblewrap, started by the workers. They speak both protocol
eras (the worker gets the 2026-07-28 one) unless started `legacy` (the handshake era only).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_MODERN_VERSION

from tests.conftest import FAKEMCP_DIR
from tests.fakellm import FakeLLM
from tests.helpers import chat, eventually
from tests.stack import Stack, free_port
from tests.test_agent import call, of_type, requests_for
from tests.test_approvals import approve, follow, pause

SERVER = str(FAKEMCP_DIR / "server.py")
PURELIB = str(__import__("sysconfig").get_paths()["purelib"])
SPOKEN = {"legacy": HANDSHAKE_PROTOCOL_VERSIONS[-1], "modern": LATEST_MODERN_VERSION}
NEEDS_BWRAP = pytest.mark.skipif(shutil.which("bwrap") is None, reason="no bubblewrap")
TRANSPORTS = ["http", pytest.param("stdio", marks=NEEDS_BWRAP)]


class HttpMcpServer:
    """tests/fakemcp/server.py over streamable HTTP on a port of its own (restartable)."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, SERVER, "http", str(self.port), *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("the MCP test server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def http_server() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def serve(stack: Stack) -> Iterator[Callable[[str, str], dict[str, Any]]]:
    """The transport half of a server's body, in an era: an HTTP server started here, or the
    stdio command (then with one worker: each worker runs a process of its own, and a tool
    list one process changed is not the others')."""
    started: list[HttpMcpServer] = []

    def body(transport: str, era: str) -> dict[str, Any]:
        args = ["legacy"] if era == "legacy" else []
        if transport == "http":
            server = HttpMcpServer(*args)
            started.append(server)
            server.start()
            return {"transport": "http", "url": server.url}
        for worker in stack.live_workers()[1:]:
            worker.stop()
        command = {"command": "python3", "args": [SERVER, "stdio", *args]}
        return {"transport": "stdio", **command, "env": {"PYTHONPATH": PURELIB}}

    yield body
    for server in started:
        server.stop()


@pytest.fixture
def name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def cleanup(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[object, ...]]
) -> AsyncIterator[list[str]]:
    """Names of servers a test added: removed from every worker afterwards."""
    added: list[str] = []
    yield added
    for server in added:
        await client.delete(f"/api/mcp/servers/{server}")


async def add(
    client: httpx.AsyncClient, cleanup: list[str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/api/mcp/servers", json=body)
    assert response.status_code == 201, response.text
    cleanup.append(body["name"])
    return dict(response.json())


async def run_call(
    client: httpx.AsyncClient, channel: str, tool: str, args: dict[str, Any]
) -> dict[str, Any]:
    _, events = await chat(client, f"[[{call(tool, args)}]]", channel)
    assert events[-1].type == "done", events[-1]
    (result,) = of_type(events, "tool_result")
    return result


async def test_bad_shapes_duplicates_and_unknown_names(
    client: httpx.AsyncClient, cleanup: list[str], name: str, http_server: HttpMcpServer
) -> None:
    bad = [
        {"name": "Upper", "transport": "http", "url": http_server.url},
        {"name": name, "transport": "ftp", "url": http_server.url},
        {"name": name, "transport": "http", "url": "file:///etc/passwd"},
        {"name": name, "transport": "http"},
        {"name": name, "transport": "stdio", "command": "x", "env": {"AION_SECRET_KEY": "x"}},
        {"name": name, "transport": "http", "url": http_server.url, "risk": "deny"},
        {"name": name, "transport": "http", "url": http_server.url, "headers": {"A": "1\n2"}},
    ]
    for body in bad:
        assert (await client.post("/api/mcp/servers", json=body)).status_code == 422, body
    await add(client, cleanup, {"name": name, "transport": "http", "url": http_server.url})
    again = await client.post(
        "/api/mcp/servers", json={"name": name, "transport": "http", "url": http_server.url}
    )
    assert again.status_code == 409
    assert (await client.delete("/api/mcp/servers/nosuch")).status_code == 404
    assert (await client.post("/api/mcp/servers/nosuch/enable")).status_code == 404


async def test_secrets_are_sealed_and_shown_masked(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
    db: psycopg.AsyncConnection[tuple[object, ...]],
) -> None:
    token = "Bearer sk-very-secret-value-1234567890"
    body = {
        "name": name,
        "transport": "http",
        "url": http_server.url,
        "headers": {"Authorization": token},
    }
    added = await add(client, cleanup, body)
    assert added["ok"] is True and added["status"] == "connected", added
    listed = (await client.get("/api/mcp/servers")).json()["servers"]
    (shown,) = [s for s in listed if s["name"] == name]
    assert shown["headers"] == {"Authorization": "Bear…7890"}
    assert token not in str(listed)
    cur = await db.execute(
        "SELECT config, sealed_secrets FROM mcp_servers WHERE name = %s", (name,)
    )
    row = await cur.fetchone()
    assert row is not None and isinstance(row[1], bytes)
    assert b"sk-very-secret" not in row[1]
    assert "sk-very-secret" not in str(row[0])


async def test_http_tools_are_listed_called_and_named(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
    fake_llm: FakeLLM,
    channel: str,
) -> None:
    added = await add(
        client,
        cleanup,
        {"name": name, "transport": "http", "url": http_server.url, "risk": "allow"},
    )
    tools = {tool["name"]: tool for tool in added["tools"]}
    assert f"mcp__{name}__add" in tools and tools[f"mcp__{name}__add"]["risk"] == "safe"
    assert added["unconfirmed"] == []
    listed = (await client.get("/api/mcp/servers")).json()["servers"]
    (shown,) = [s for s in listed if s["name"] == name]
    assert shown["status"] == "connected" and shown["enabled"] is True

    result = await run_call(client, channel, f"mcp__{name}__add", {"a": 2, "b": 40})
    assert result["ok"] is True and result["result"] == "42", result
    offered = {
        t["function"]["name"]: t["function"] for t in requests_for(fake_llm, channel)[0]["tools"]
    }
    schema = offered[f"mcp__{name}__add"]["parameters"]
    assert schema["properties"]["a"]["type"] == "integer" and schema["required"] == ["a", "b"]

    bad = await run_call(client, channel, f"mcp__{name}__add", {"a": "x"})
    assert bad["ok"] is False

    picture = await run_call(client, channel, f"mcp__{name}__picture", {})
    assert picture["ok"] is True and "image" in picture["result"]

    await client.post(f"/api/mcp/servers/{name}/disable")
    listed = (await client.get("/api/mcp/servers")).json()["servers"]
    assert [s["status"] for s in listed if s["name"] == name] == ["disabled"]
    gone = await run_call(client, channel, f"mcp__{name}__add", {"a": 1, "b": 1})
    assert gone["ok"] is False and "no tool" in gone["result"]


async def test_ask_risk_waits_for_approval_and_a_denial_is_not_run(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
    channel: str,
) -> None:
    await add(client, cleanup, {"name": name, "transport": "http", "url": http_server.url})
    approval = await pause(client, channel, call(f"mcp__{name}__echo", {"text": "hi"}))
    assert approval["tool"] == f"mcp__{name}__echo"
    events = await approve(client, approval["id"])
    (result,) = of_type(events, "tool_result")
    assert result["ok"] is True and result["result"] == "hi"

    approval = await pause(client, channel, call(f"mcp__{name}__echo", {"text": "no"}))
    response = await client.post(f"/api/approvals/{approval['id']}", json={"approve": False})
    events = await follow(client, response.json()["job"])
    (result,) = of_type(events, "tool_result")
    assert result["ok"] is False and "declined" in result["result"]


async def test_an_unreachable_server_is_stored_with_its_error(
    client: httpx.AsyncClient, cleanup: list[str], name: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    added = await add(client, cleanup, {"name": name, "transport": "http", "url": url})
    assert added["status"] == "error" and added["error"] and added["tools"] == []
    listed = (await client.get("/api/mcp/servers")).json()["servers"]
    (shown,) = [s for s in listed if s["name"] == name]
    assert shown["status"] == "error" and shown["error"]


async def test_a_slow_tool_hits_its_time_limit(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
    channel: str,
) -> None:
    body = {
        "name": name,
        "transport": "http",
        "url": http_server.url,
        "risk": "allow",
        "timeout_seconds": 1,
    }
    await add(client, cleanup, body)
    result = await run_call(client, channel, f"mcp__{name}__slow", {"seconds": 10})
    assert result["ok"] is False and "did not finish within 1 s" in result["result"]
    fine = await run_call(client, channel, f"mcp__{name}__echo", {"text": "still here"})
    assert fine["ok"] is True and fine["result"] == "still here"


async def test_a_server_that_crashes_mid_call_fails_only_its_tools_and_comes_back(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
    channel: str,
) -> None:
    await add(
        client,
        cleanup,
        {"name": name, "transport": "http", "url": http_server.url, "risk": "allow"},
    )
    crashed = await run_call(client, channel, f"mcp__{name}__crash", {})
    assert crashed["ok"] is False, crashed
    http_server.start()  # the same port again

    async def works() -> bool:
        result = await run_call(client, channel, f"mcp__{name}__echo", {"text": "back"})
        return bool(result["ok"] and result["result"] == "back")

    await eventually(works, "the server to be back", timeout=30)


@pytest.mark.parametrize("era", ["legacy", "modern"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_changed_tool_list_is_followed(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    serve: Callable[[str, str], dict[str, Any]],
    channel: str,
    transport: str,
    era: str,
) -> None:
    """Told by `tools/list_changed` (handshake era) or on a listen stream (2026-07-28)."""
    await add(client, cleanup, {"name": name, **serve(transport, era), "risk": "allow"})
    spoken = await run_call(client, channel, f"mcp__{name}__era", {})
    assert spoken["result"] == SPOKEN[era], spoken
    grown = await run_call(client, channel, f"mcp__{name}__grow", {})
    assert grown["ok"] is True
    await eventually(lambda: offers(client, name, "extra"), "the new tool to be listed", 15)
    result = await run_call(client, channel, f"mcp__{name}__extra", {"word": "ab"})
    assert result["ok"] is True and result["result"] == "abab"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_lost_listen_stream_loses_no_later_change(
    client: httpx.AsyncClient,
    cleanup: list[str],
    name: str,
    serve: Callable[[str, str], dict[str, Any]],
    channel: str,
    transport: str,
) -> None:
    """No replay in the 2026 protocol: the worker listens again and lists again."""
    await add(client, cleanup, {"name": name, **serve(transport, "modern"), "risk": "allow"})

    async def cut() -> bool:  # the worker's stream may still be opening
        dropped = await run_call(client, channel, f"mcp__{name}__drop", {})
        return bool(dropped["ok"] and dropped["result"] != "cut 0")

    await eventually(cut, "a listen stream to cut", 15)
    grown = await run_call(client, channel, f"mcp__{name}__grow", {})
    assert grown["ok"] is True
    await eventually(lambda: offers(client, name, "extra"), "the new tool to be listed", 15)
    result = await run_call(client, channel, f"mcp__{name}__extra", {"word": "cd"})
    assert result["ok"] is True and result["result"] == "cdcd"


async def test_a_server_that_never_answers_the_probe_is_reached_by_the_handshake(
    client: httpx.AsyncClient, cleanup: list[str], name: str, channel: str
) -> None:
    """A server from before 2026 that ignores `server/discover` costs one connect timeout."""
    server = HttpMcpServer("legacy", "silent")
    server.start()
    try:
        body = {"name": name, "transport": "http", "url": server.url, "risk": "allow"}
        await add(client, cleanup, body)
        await eventually(lambda: offers(client, name, "era"), "the handshake to connect", 40)
        spoken = await run_call(client, channel, f"mcp__{name}__era", {})
        assert spoken["result"] == SPOKEN["legacy"], spoken
    finally:
        server.stop()


async def offers(client: httpx.AsyncClient, name: str, tool: str) -> bool:
    servers = (await client.get("/api/mcp/servers")).json()["servers"]
    (shown,) = [s for s in servers if s["name"] == name]
    return f"mcp__{name}__{tool}" in {t["name"] for t in shown["tools"]}


async def test_two_workers_both_connect(
    client: httpx.AsyncClient,
    stack: Stack,
    cleanup: list[str],
    name: str,
    http_server: HttpMcpServer,
) -> None:
    while len(stack.live_workers()) < 2:
        stack.start_worker()
    added = await add(client, cleanup, {"name": name, "transport": "http", "url": http_server.url})
    assert added["status"] == "connected" and added["unconfirmed"] == []
    response = await client.post(f"/api/mcp/servers/{name}/disable")
    assert response.status_code == 200 and response.json()["unconfirmed"] == []
    response = await client.post(f"/api/mcp/servers/{name}/enable")
    assert response.json()["status"] == "connected" and response.json()["unconfirmed"] == []


@NEEDS_BWRAP
async def test_stdio_server_runs_in_the_sandbox_without_aion_secrets(
    client: httpx.AsyncClient, cleanup: list[str], name: str, channel: str
) -> None:
    body = {
        "name": name,
        "transport": "stdio",
        "command": "python3",
        "args": [SERVER, "stdio"],
        "env": {"PYTHONPATH": PURELIB, "SERVER_TOKEN": "its-own-secret-value-123456"},
        "risk": "allow",
    }
    added = await add(client, cleanup, body)
    assert added["status"] == "connected", added
    listed = (await client.get("/api/mcp/servers")).json()["servers"]
    (shown,) = [s for s in listed if s["name"] == name]
    assert shown["env"]["SERVER_TOKEN"] == "its-…3456"
    own = await run_call(client, channel, f"mcp__{name}__env", {"name": "SERVER_TOKEN"})
    assert own["result"] == "its-own-secret-value-123456"
    for secret in ("AION_SECRET_KEY", "DATABASE_URL", "OPENAI_API_KEY", "AION_API_TOKEN"):
        leaked = await run_call(client, channel, f"mcp__{name}__env", {"name": secret})
        assert leaked["result"] == "(unset)", secret
    crashed = await run_call(client, channel, f"mcp__{name}__crash", {})
    assert crashed["ok"] is False
