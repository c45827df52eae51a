"""Keys and logins end to end: stored encrypted, masked in every answer, used by the worker
from its next call, refused without AION_SECRET_KEY; the Google login with its one-time state."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import API_TOKEN
from tests.fakeanthropic import FakeAnthropic
from tests.fakegoogle import GOOD_CODE, FakeGoogle
from tests.fakellm import FakeLLM
from tests.helpers import chat
from tests.providers_env import ANTHROPIC_ENV_KEY, PUBLIC_URL, SECRET_KEY
from tests.stack import Stack


def entries(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {e["key"]: e for p in listing["providers"] for e in p["env_keys"]}
    return {**found, **{e["key"]: e for e in listing["other_keys"]}}


async def raw_secret(db, name: str) -> bytes | None:
    cur = await db.execute("SELECT ciphertext FROM secrets WHERE name = %s", (name,))
    row = await cur.fetchone()
    return bytes(row[0]) if row else None


def sent_key(request: dict[str, Any]) -> str:
    headers: dict[str, str] = request["headers"]
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


async def test_keys_are_encrypted_at_rest_and_masked(client: httpx.AsyncClient, db) -> None:
    value = "sk-deepseek-1234567890-abcdefghij"
    response = await client.post(
        "/api/keys", json={"DEEPSEEK_API_KEY": value, "MY_TOOL_TOKEN": "short"}
    )
    assert response.json() == {"ok": True, "updated": ["DEEPSEEK_API_KEY", "MY_TOOL_TOKEN"]}
    try:
        stored = await raw_secret(db, "DEEPSEEK_API_KEY")
        assert stored is not None and value.encode() not in stored
        assert Fernet(SECRET_KEY.encode()).decrypt(stored).decode() == value
        listing = (await client.get("/api/keys")).text
        assert value not in listing and "short" not in listing.replace("short_", "")
        keys = entries((await client.get("/api/keys")).json())
        assert keys["DEEPSEEK_API_KEY"] == {
            "key": "DEEPSEEK_API_KEY",
            "set": True,
            "source": "vault",
            "masked": "sk-d…ghij",
        }
        assert keys["MY_TOOL_TOKEN"]["masked"] == "••••••••"  # short: nothing of it shown
        assert keys["ANTHROPIC_API_KEY"]["source"] == "env"
        assert (
            keys["ANTHROPIC_API_KEY"]["masked"]
            == ANTHROPIC_ENV_KEY[:4] + "…" + ANTHROPIC_ENV_KEY[-4:]
        )
        assert keys["XAI_API_KEY"] == {
            "key": "XAI_API_KEY",
            "set": False,
            "source": "unset",
            "masked": "",
        }
        providers = {p["id"]: p for p in (await client.get("/api/providers")).json()["providers"]}
        assert providers["deepseek"]["configured"] is True
    finally:
        for name in ("DEEPSEEK_API_KEY", "MY_TOOL_TOKEN"):
            assert (await client.delete(f"/api/keys/{name}")).json() == {
                "ok": True,
                "deleted": name,
            }
    assert await raw_secret(db, "DEEPSEEK_API_KEY") is None
    response = await client.delete("/api/keys/DEEPSEEK_API_KEY")
    assert response.status_code == 404 and response.json()["error"] == "NotFound"


@pytest.mark.parametrize(
    "body",
    [
        {"PATH": "/tmp/evil"},
        {"OPENAI_BASE_URL": "http://evil"},
        {"openai_api_key": "x"},
        {"AION_SECRET_KEY": "x" * 44},
        {"AION_API_TOKEN": "abcdef"},
        {"BAD-NAME_KEY": "x", "GOOD_API_KEY": "fine"},  # one bad name: nothing stored
        {"GOOD_API_KEY": ""},
        {"GOOD_API_KEY": 12345},
        {"GOOD_API_KEY": "two\nlines"},
        {"A" * 70 + "_KEY": "a name too long"},
        {},
    ],
)
async def test_bad_keys_are_refused_whole(
    client: httpx.AsyncClient, db, body: dict[str, Any]
) -> None:
    response = await client.post("/api/keys", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert "fine" not in response.text and "/tmp/evil" not in response.text
    assert await raw_secret(db, "GOOD_API_KEY") is None


async def test_a_saved_key_is_used_from_the_next_call_without_restart(
    client: httpx.AsyncClient, channel: str, fake_anthropic: FakeAnthropic
) -> None:
    async def key_of_next_call() -> str:
        before = len(fake_anthropic.requests)
        _, events = await chat(client, "hi", channel, model="claude-sonnet-4-5")
        assert events[-1].type == "done", events[-1].data
        assert len(fake_anthropic.requests) > before, [e.data for e in events]
        return sent_key(fake_anthropic.requests[before])

    assert await key_of_next_call() == ANTHROPIC_ENV_KEY
    for rotated in ("sk-ant-vault-first-0001", "sk-ant-vault-second-0002"):
        assert (
            await client.post("/api/keys", json={"ANTHROPIC_API_KEY": rotated})
        ).status_code == 200
        # No wait: the api answers once every live worker has applied the change.
        assert await key_of_next_call() == rotated
    await client.delete("/api/keys/ANTHROPIC_API_KEY")
    assert await key_of_next_call() == ANTHROPIC_ENV_KEY  # the environment's default again


async def test_secrets_never_reach_the_logs(
    client: httpx.AsyncClient, ensure_worker: Stack
) -> None:
    secret = "sk-never-logged-9f8e7d6c5b4a"
    await client.post("/api/keys", json={"LOGCHECK_API_KEY": secret})
    await client.post("/api/keys", json={"PATH": secret})  # refused: not echoed either
    await client.delete("/api/keys/LOGCHECK_API_KEY")
    assert ensure_worker.api is not None
    logs = ensure_worker.api.log() + "".join(w.log() for w in ensure_worker.workers)
    assert secret not in logs


@pytest.fixture(scope="module")
async def bare_api(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A second api with no AION_SECRET_KEY and no Google client configured."""
    env = {
        k: v
        for k, v in service_env.items()
        if k not in ("AION_SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
    }
    stack = Stack(env=env, log_dir=tmp_path_factory.mktemp("bare-api"))
    stack.start_api()
    try:
        async with httpx.AsyncClient(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10
        ) as http:
            yield http
    finally:
        stack.stop()


async def test_without_a_vault_key_saving_is_refused_and_env_keys_still_show(
    bare_api: httpx.AsyncClient,
) -> None:
    response = await bare_api.post("/api/keys", json={"XAI_API_KEY": "xai-123456789012345678"})
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict" and "AION_SECRET_KEY" in response.json()["detail"]
    keys = entries((await bare_api.get("/api/keys")).json())
    assert keys["ANTHROPIC_API_KEY"]["source"] == "env" and keys["XAI_API_KEY"]["set"] is False
    response = await bare_api.get("/api/oauth/google/start")
    assert response.status_code == 409 and "GOOGLE_CLIENT_ID" in response.json()["detail"]


async def test_google_login_with_pkce_then_gemini_without_an_api_key(
    client: httpx.AsyncClient,
    stack: Stack,
    anonymous: httpx.AsyncClient,
    channel: str,
    db,
    fake_google: FakeGoogle,
    fake_llm: FakeLLM,
) -> None:
    assert (await anonymous.get("/api/oauth/google/start")).status_code == 401
    url = (await client.get("/api/oauth/google/start")).json()["url"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert query["redirect_uri"] == f"{PUBLIC_URL}/api/oauth/google/callback"
    assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"
    other = (await client.get("/api/oauth/google/start")).json()["url"]
    assert parse_qs(urlsplit(other).query)["state"][0] != query["state"]  # per request

    forged = await anonymous.get(
        "/api/oauth/google/callback", params={"code": GOOD_CODE, "state": "forged"}
    )
    assert forged.status_code == 400 and "not valid" in forged.text
    callback = {"code": GOOD_CODE, "state": query["state"]}
    try:
        done = await anonymous.get("/api/oauth/google/callback", params=callback)
        assert done.status_code == 200 and "Signed in with Google" in done.text
        exchange = fake_google.app.requests[-1]
        assert exchange["grant_type"] == "authorization_code"
        verifier = exchange["code_verifier"].encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        assert challenge.decode() == query["code_challenge"]
        stored = await raw_secret(db, "GOOGLE_OAUTH_REFRESH_TOKEN")
        assert stored is not None and b"1//refresh" not in stored
        assert (
            Fernet(SECRET_KEY.encode()).decrypt(stored).decode() in fake_google.app.refresh_tokens
        )

        replay = await anonymous.get("/api/oauth/google/callback", params=callback)
        assert replay.status_code == 400 and "not valid" in replay.text

        _, events = await chat(client, "hello gemini", channel, model="gemini-2.5-flash")
        assert events[-1].data["full_response"] == "You said: hello gemini"
        assert fake_llm.requests[-1]["model"] == "gemini-2.5-flash"
        token = fake_google.app.access_tokens[-1]
        assert fake_llm.app.authorizations.snapshot()[-1] == f"Bearer {token}"
        # Each worker keeps its access token until it expires: more turns, no more refreshes
        # than there are workers (an earlier test may have started a second one).
        minted = len(fake_google.app.access_tokens)
        for n in range(4):
            await chat(client, f"again {n}", channel, model="gemini-2.5-flash")
        refreshed = len(fake_google.app.access_tokens) - minted
        assert refreshed <= len(stack.live_workers()) - 1, fake_google.app.access_tokens
    finally:
        await client.delete("/api/keys/GOOGLE_OAUTH_REFRESH_TOKEN")


async def test_callback_reflects_nothing_unescaped(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    url = (await client.get("/api/oauth/google/start")).json()["url"]
    state = parse_qs(urlsplit(url).query)["state"][0]
    evil = "<script>alert(1)</script>"
    page = await anonymous.get("/api/oauth/google/callback", params={"state": state, "error": evil})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_claude_cli_status_login_and_chat(
    client: httpx.AsyncClient, channel: str, service_env: dict[str, str]
) -> None:
    # A worker publishes what it found shortly after it starts (it runs `claude --version`).
    for _ in range(100):
        status = (await client.get("/api/claude-cli/status")).json()
        if status["installed"]:
            break
        await asyncio.sleep(0.1)
    assert status == {
        "installed": True,
        "authenticated": False,
        "path": service_env["AION_CLAUDE_CLI_PATH"],
        "version": "2.1.0 (Claude Code)",
    }
    login = (await client.post("/api/claude-cli/login")).json()
    assert login["ok"] is False and login["step"] == "failed"
    assert "CLAUDE_CODE_OAUTH_TOKEN" in login["message"]

    _, events = await chat(client, "hi cli", channel, model="claude-cli/sonnet")
    assert events[-1].data["full_response"] == "CLI(sonnet, tools='') heard: hi cli"

    await client.post(
        "/api/keys", json={"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-abcdefghijklmnop"}
    )
    try:
        for _ in range(50):
            status = (await client.get("/api/claude-cli/status")).json()
            if status["authenticated"]:
                break
            await asyncio.sleep(0.1)
        assert status["authenticated"] is True
        login = (await client.post("/api/claude-cli/login")).json()
        assert login == {
            "ok": True,
            "step": "already_authenticated",
            "message": "The Claude CLI is logged in (a saved token).",
        }
        _, events = await chat(client, "with token", channel, model="claude-cli/opus")
        # The fake repeats the prompt's last line: the owner's words, after AION's note.
        assert events[-1].data["full_response"].endswith("heard: with token [token]")
        _, events = await chat(client, "x", channel, model="claude-cli/fail")
        assert events[-1].type == "error" and "Please run /login" in events[-1].data["message"]
        # Its stderr stays in the worker's log; the client hears only that it failed.
        _, events = await chat(client, "x", channel, model="claude-cli/crash")
        assert events[-1].type == "error", events[-1]
        assert "exit status 3" in events[-1].data["message"]
        assert "/home" not in events[-1].data["message"]
        assert "AION_SECRET_KEY" not in events[-1].data["message"]
        # It runs with a minimal environment: its login, never the worker's keys and URLs.
        _, events = await chat(client, "x", channel, model="claude-cli/env")
        names = set(events[-1].data["full_response"].split("heard: ")[1].split()[1:])
        assert "CLAUDE_CODE_OAUTH_TOKEN" in names and "PATH" in names
        leaked = {n for n in names if n.startswith(("AION_", "DATABASE", "REDIS", "OPENAI"))}
        assert not leaked and not {n for n in names if n.endswith("_KEY")}, names
    finally:
        await client.delete("/api/keys/CLAUDE_CODE_OAUTH_TOKEN")


def test_the_fake_cli_is_executable() -> None:
    assert Path(__file__).with_name("fakeclaude").joinpath("claude").stat().st_mode & 0o111
