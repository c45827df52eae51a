"""`docker compose up` as a new user meets it: real images, real compose file, no hand-made secret.

Builds every image from the Dockerfile (base images: local stand-ins, tests/compose/standins.py),
starts docker-compose.yml with the test overlay (fake LLM and fake Telegram as containers), and
checks what a user does in the first hour, in order: everything healthy, the token where the
README says, a chat, a key and a setting saved, a voice reply, Telegram, a shell command that
finds no secret and reaches no store, a worker killed mid-turn, a restart that keeps
everything, and `down -v` that forgets everything.

Run: `make compose-test` (needs root for the engine; the first run builds the stand-ins and the
images, about 10 minutes; later runs reuse both).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.audio_checks import probe
from tests.compose.engine import ensure_engine
from tests.compose.stack import REPO, ComposeStack, eventually
from tests.compose.standins import ensure_standins
from tests.sse import SSEEvent, iter_events_sync
from tests.test_agent import call

pytestmark = [pytest.mark.compose, pytest.mark.timeout(2400)]

BOT_TOKEN = "7000000001:AAcomposeTestTokenForTheFakeBotApi_xyz"
OWNER_ID = 424242


@pytest.fixture(scope="module")
def stack() -> Iterator[ComposeStack]:
    ensure_engine()
    # Kept after the run (pytest prunes its temporary folders): what each service logged.
    log_dir = REPO / "data" / "compose-test-logs" / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True)
    running = ComposeStack(ensure_standins(), log_dir)
    running.compose("down", "-v", "--remove-orphans", check=False)  # a run that died earlier
    running.build()
    try:
        yield running
    finally:
        running.down(volumes=True)


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What earlier steps made, for the later ones to find again."""
    return {}


def chat(http: httpx.Client, message: str, **body: Any) -> list[SSEEvent]:
    return turn_events(http, "/api/chat", {"message": message, **body})


def turn_events(http: httpx.Client, path: str, body: dict[str, Any]) -> list[SSEEvent]:
    """POST `body` to a route that streams a turn; its events up to the end."""
    with http.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        events = []
        for event in iter_events_sync(response):
            events.append(event)
            if event.type in ("done", "error"):
                break
    return events


def test_every_service_is_healthy_within_two_minutes(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    seconds = stack.up()
    assert seconds < 120, f"healthy after {seconds:.0f} s"
    states = stack.states()
    assert states["secrets"]["ExitCode"] in (0, "0") and states["migrate"]["ExitCode"] in (0, "0")
    state["token"] = stack.token()


def test_the_console_is_served_at_the_root(stack: ComposeStack) -> None:
    """The api image holds the console built by the Dockerfile's Node stage (no 503)."""
    if not stack.all_healthy():  # run on its own (-k console)
        stack.up()
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200, page.text[:300]
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        scripts = re.findall(r'<script[^>]+src="(/assets/[^"]+\.js)"', page.text)
        assert scripts, page.text[:500]  # the built page, not the source's /src/main.tsx
        script = http.get(scripts[0])
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert http.get("/history").text == page.text  # a client-side route gets the page


def test_the_owner_token_is_where_the_readme_says(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    assert "docker compose exec api aion token" in (REPO / "README.md").read_text()
    token = state["token"]
    assert len(token) >= 32
    with stack.client(token) as http:
        assert http.get("/api/config").status_code == 200
    with stack.client("not-the-token") as http:
        assert http.get("/api/config").status_code == 401
    assert token not in stack.logs(), "the token must not be written to any log"


def test_a_chat_streams(stack: ComposeStack, state: dict[str, Any]) -> None:
    with stack.client(state["token"]) as http:
        events = chat(http, "Hello there [[tokens=5]]", channel="compose")
    kinds = [e.type for e in events]
    assert kinds[0] == "token" and kinds[-1] == "done", kinds
    assert events[-1].data["full_response"].strip() == "t0 t1 t2 t3 t4"


def test_a_key_and_a_setting_are_saved_without_any_hand_made_secret(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    with stack.client(state["token"]) as http:
        saved = http.post("/api/keys", json={"ANTHROPIC_API_KEY": "sk-ant-compose-0000-1111"})
        assert saved.status_code == 200, saved.text
        setting = http.post("/api/config/settings", json={"timezone": "Europe/Berlin"})
        assert setting.status_code == 200, setting.text
        keys = http.get("/api/keys").text
        assert "sk-ant-compose-0000-1111" not in keys and "vault" in keys


def test_a_voice_reply_decodes(stack: ComposeStack, state: dict[str, Any], tmp_path: Path) -> None:
    with stack.client(state["token"]) as http:
        events = chat(http, "Say something [[tokens=6]]", channel="compose-voice", voice=True)
        done = events[-1]
        assert done.type == "done", [e.data for e in events]
        audio = done.data["response_blocks"][-1]
        assert audio["type"] == "audio", done.data
        response = http.get(audio["url"])
    assert response.status_code == 200
    path = tmp_path / f"reply.{audio['format']}"
    path.write_bytes(response.content)
    assert float(probe(path)["duration"]) > 0.2


def test_telegram_answers_a_message(stack: ComposeStack, state: dict[str, Any]) -> None:
    fake = f"http://127.0.0.1:{stack.port_of('faketelegram', 8081)}"
    httpx.post(f"{fake}/_test/tokens", json={"token": BOT_TOKEN}).raise_for_status()
    with stack.client(state["token"]) as http:
        answer = http.post(
            "/api/telegram/config", json={"token": BOT_TOKEN, "allowed_ids": [OWNER_ID]}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["polling_active"] is True, stack.logs("telegram")
    message = {"token": BOT_TOKEN, "user_id": OWNER_ID, "text": "Hi from Telegram [[tokens=4]]"}
    httpx.post(f"{fake}/_test/messages", json=message).raise_for_status()

    def answered() -> list[dict[str, Any]]:
        found = httpx.get(f"{fake}/_test/chats/{OWNER_ID}").json()["messages"]
        return [m for m in found if "t3" in m["text"]]

    eventually(answered, f"the bot's answer in Telegram:\n{stack.logs('telegram')}", 60)


PROBE = """
import json, socket, sys
for host, port in json.loads(sys.argv[1]):
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("REACHED", host, port)
    except OSError as exc:
        print("unreachable", host, port, type(exc).__name__)
"""


def _secret_files(stack: ComposeStack, service: str) -> dict[str, str]:
    shown = stack.compose(
        "exec", "-T", service, "sh", "-c",
        'for f in /run/aion-secrets/*; do printf "%s\\t%s\\n" "$f" "$(cat "$f")"; done',
    ).stdout  # fmt: skip
    return dict(line.split("\t", 1) for line in shown.splitlines() if "\t" in line)


def test_a_shell_command_finds_no_secret_and_reaches_no_store(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    """Issue 16 in the real stack: the command runs in the sandbox container."""
    secrets = {**_secret_files(stack, "worker"), **_secret_files(stack, "api")}
    secrets["token"] = state["token"]
    secrets["OPENAI_API_KEY"] = stack.env["OPENAI_API_KEY"]
    secrets = {name: value for name, value in secrets.items() if len(value) >= 16}
    assert any("redis_url" in name for name in secrets) and len(secrets) >= 6, secrets
    addresses = stack.compose(
        "exec", "-T", "worker", "python", "-c",
        "import socket; print(' '.join(socket.gethostbyname(h) for h in ('redis', 'postgres')))",
    ).stdout.split()  # fmt: skip
    targets = [["redis", 6379], ["postgres", 5432], ["api", 7000], ["tts", 7100]]
    targets += [[addresses[0], 6379], [addresses[1], 5432], ["169.254.169.254", 80]]
    script = PROBE.replace("'", "'\\''")
    command = (
        "{ id -u; env; cat /proc/*/environ; echo; ls /run/aion-secrets; cat /run/aion-secrets/*;"
        " ls /data/plugins /data/audio; python -c '" + script + "' '" + json.dumps(targets) + "';"
        " } > sandbox-probe.txt 2>&1; echo done"
    )
    with stack.client(state["token"]) as http:
        enabled = http.post("/api/plugins/enable", json={"name": "shell"})
        assert enabled.status_code == 200 and enabled.json()["unconfirmed"] == [], enabled.text
        allowed = http.post(
            "/api/config/settings", json={"tool_permissions": {"shell_run": "allow"}}
        )
        assert allowed.status_code == 200, allowed.text
        # Names that do not resolve take the resolver several seconds each (49 s in all here).
        directive = call("shell_run", {"command": command, "timeout_seconds": 240})
        events = chat(http, f"[[{directive}]]", channel="compose-shell")
        results = [e.data for e in events if e.type == "tool_result"]
        assert results and results[0]["ok"] is True, [e.data for e in events]
        assert results[0]["result"]["output"] == "done\n", results[0]
        http.post("/api/plugins/disable", json={"name": "shell"})
    seen = stack.compose("exec", "-T", "worker", "cat", "/data/workspace/sandbox-probe.txt").stdout
    assert seen.splitlines()[0] == "10002", seen[:2000]
    assert "PATH=" in seen and "aion_sandbox_token_sha256" in seen
    leaked = [name for name, value in secrets.items() if value in seen]
    assert leaked == [], f"a command read {leaked}"
    assert seen.count("unreachable") == len(targets) and "REACHED" not in seen, seen[-3000:]


def test_an_mcp_server_in_its_own_container_lends_its_tools_under_approval(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    """Issue 18 in the real stack: the owner adds an MCP server that runs as a container of
    its own (the overlay's `fakemcp`); its tool asks for approval and runs once approved."""
    with stack.client(state["token"]) as http:
        body = {"name": "fake", "transport": "http", "url": "http://fakemcp:8000/mcp"}
        added = http.post("/api/mcp/servers", json=body)
        assert added.status_code == 201, added.text

        def connected() -> dict[str, Any] | None:
            servers = http.get("/api/mcp/servers").json()["servers"]
            fake = next(s for s in servers if s["name"] == "fake")
            return fake if fake["status"] == "connected" else None

        server = eventually(connected, "the MCP server's container connected", timeout=120)
        assert {"mcp__fake__add", "mcp__fake__echo"} <= {t["name"] for t in server["tools"]}, server
        events = chat(
            http, f"[[{call('mcp__fake__add', {'a': 2, 'b': 3})}]]", channel="compose-mcp"
        )
        (approval,) = [e.data for e in events if e.type == "approval"]
        assert approval["tool"] == "mcp__fake__add" and events[-1].data["approval_pending"]
        after = turn_events(http, f"/api/approvals/{approval['id']}", {"approve": True})
        results = [e.data for e in after if e.type == "tool_result"]
        assert results and results[0]["ok"] is True and results[0]["result"] == "5", results
        assert http.delete("/api/mcp/servers/fake").status_code == 200


def test_a_worker_killed_mid_turn_gives_an_error_and_the_next_turn_works(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    with stack.client(state["token"]) as http:
        body = {"message": "A long answer [[tokens=400 gap=100]]", "channel": "compose-kill"}
        with http.stream("POST", "/api/chat", json=body) as response:
            events = iter_events_sync(response)
            first = next(events)
            assert first.type == "token", first.data
            stack.compose("kill", "worker")
            killed_at = time.monotonic()
            last = first
            for last in events:
                if last.type in ("done", "error"):
                    break
            waited = time.monotonic() - killed_at
        assert last.type == "error", last.data
        assert waited < 10, f"the error came {waited:.1f} s after the kill"
        stack.compose("start", "worker")
        eventually(stack.all_healthy, "the worker healthy again", 120)
        after = chat(http, "Still there? [[tokens=3]]", channel="compose-kill")
        assert after[-1].type == "done", [e.data for e in after]


def test_down_then_up_keeps_history_memories_keys_and_settings(
    stack: ComposeStack, state: dict[str, Any]
) -> None:
    fact = "The owner's boat is called Albatross."
    with stack.client(state["token"]) as http:
        # extraction right after the turn, not once the conversation has been quiet a while
        idle = http.post("/api/config/settings", json={"memory_extract_idle_seconds": 0})
        assert idle.status_code == 200, idle.text
        chat(http, f"My boat is called Albatross. {{{{fact: {fact}}}}}", channel="compose")

        def remembered() -> bool:
            entries = http.get("/api/memory", params={"search": "Albatross"}).json()["entries"]
            return any(e["content"] == fact for e in entries)

        eventually(remembered, "the memory saved", 60)
    stack.down()
    stack.up()
    assert stack.token() == state["token"]
    with stack.client(state["token"]) as http:
        history = http.get("/api/history", params={"channel": "compose"}).json()["messages"]
        assert any("Hello there" in m["content"] for m in history)
        assert remembered()
        keys = http.get("/api/keys").json()
        sources = {k["key"]: k["source"] for p in keys["providers"] for k in p["env_keys"]}
        assert sources["ANTHROPIC_API_KEY"] == "vault"
        assert http.get("/api/config").json()["settings"]["timezone"] == "Europe/Berlin"


def test_down_with_volumes_starts_clean(stack: ComposeStack, state: dict[str, Any]) -> None:
    stack.down(volumes=True)
    stack.up()
    token = stack.token()
    assert token != state["token"], "a clean start generates a new token"
    with stack.client(token) as http:
        assert http.get("/api/history", params={"channel": "compose"}).json()["messages"] == []
        assert http.get("/api/memory").json()["total"] == 0
        keys = http.get("/api/keys").json()
        sources = {k["key"]: k["source"] for p in keys["providers"] for k in p["env_keys"]}
        assert sources["ANTHROPIC_API_KEY"] == "unset"


def test_the_stores_refuse_strangers(stack: ComposeStack) -> None:
    """Redis wants its password, and the services' database role cannot change the schema."""
    redis = stack.compose("exec", "-T", "redis", "redis-cli", "ping", check=False)
    assert "NOAUTH" in redis.stdout + redis.stderr
    ddl = stack.compose(
        "exec",
        "-T",
        "api",
        "python",
        "-c",
        "import psycopg; from services.api.settings import ApiSettings;"
        "psycopg.connect(ApiSettings().database_url).execute('CREATE TABLE sneaky (x int)')",
        check=False,
    )
    assert ddl.returncode != 0 and "permission denied" in ddl.stderr, ddl.stderr[-2000:]


def test_no_container_runs_as_root_or_with_capabilities(stack: ComposeStack) -> None:
    for service in ("api", "worker", "tts", "telegram"):
        inspect = subprocess.run(
            ["docker", "inspect", f"aion-composetest-{service}-1"],
            capture_output=True,
            text=True,
            check=True,
        )
        (info,) = json.loads(inspect.stdout)
        assert info["Config"]["User"] == "aion", service
        assert info["HostConfig"]["ReadonlyRootfs"] is True, service
        assert info["HostConfig"]["CapDrop"] == ["ALL"], service
