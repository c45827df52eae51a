"""The HTTP contract around the chat path: auth, the error shape, bad input, status."""

from __future__ import annotations

import re
import stat
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts import localpg
from tests.fakellm import FakeLLM
from tests.fakellm.script import MEMORY_EXTRACTION_MARKER
from tests.helpers import fresh_address, history
from tests.stack import Stack, run_migrations

JOB = "0" * 32
PRIVATE_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/chat", {"message": "hi"}),
    ("GET", f"/api/chat/{JOB}/events", None),
    ("POST", f"/api/chat/{JOB}/cancel", None),
    ("POST", "/api/reset", {}),
    ("POST", "/api/stop", {}),
    ("GET", "/api/openapi.json", None),
    ("GET", "/api/history", None),
    ("GET", "/api/channels", None),
    ("GET", "/api/config", None),
    ("POST", "/api/config/settings", {"max_history_turns": 3}),
    ("GET", "/api/prompt/rules", None),
    ("POST", "/api/prompt/rules", {"content": "x"}),
    ("GET", "/api/update-status", None),
    ("POST", "/api/update-trigger", None),
    ("GET", "/api/memory", None),
    ("DELETE", "/api/memory", None),
    ("DELETE", "/api/memory/1", None),
    ("POST", "/api/model", {"model": "gpt-4o"}),
    ("GET", "/api/providers", None),
    ("GET", "/api/keys", None),
    ("POST", "/api/keys", {"OPENAI_API_KEY": "sk-x"}),
    ("DELETE", "/api/keys/OPENAI_API_KEY", None),
    ("GET", "/api/telegram/config", None),
    ("POST", "/api/telegram/config", {"allowed_ids": []}),
    ("GET", "/api/telegram/bot", None),
    ("GET", "/api/claude-cli/status", None),
    ("POST", "/api/claude-cli/login", None),
    ("GET", "/api/oauth/google/start", None),
]


def chat_requests(fake: FakeLLM) -> list[object]:
    """What the fake got for chat turns (memory extraction runs after turns, in the background)."""
    return [r for r in fake.requests if MEMORY_EXTRACTION_MARKER not in str(r)]


@pytest.mark.parametrize(("method", "path", "body"), PRIVATE_ROUTES)
@pytest.mark.parametrize("token", [None, "wrong-token", "x"])
async def test_private_routes_need_the_token(
    anonymous: httpx.AsyncClient, method: str, path: str, body: object, token: str | None
) -> None:
    # Each case from an address of its own: an address that keeps sending wrong tokens soon
    # gets 429 instead (tests/frontdoor/test_gate.py).
    headers = {"X-Forwarded-For": fresh_address()}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await anonymous.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "Unauthorized"
    assert response.json()["detail"]


async def test_no_public_docs_or_schema(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    # The OpenAPI document is the owner's alone, at /api/openapi.json (tests/test_openapi.py).
    for path in ("/api/docs", "/api/redoc"):
        # Only the listed public routes open without a token, known paths or not: an anonymous
        # client cannot tell which paths exist.
        response = await anonymous.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "NotFound", "detail": "Not Found"}
    for path in ("/docs", "/openapi.json", "/redoc"):
        # Outside /api these are the web console's paths (public): never FastAPI's docs.
        for http in (anonymous, client):
            response = await http.get(path)
            assert "swagger" not in response.text.lower(), path
            assert '"openapi"' not in response.text, path


async def test_status_is_public_and_tells_no_secrets(
    anonymous: httpx.AsyncClient, stack: Stack
) -> None:
    response = await anonymous.get("/api/status")
    assert response.status_code == 200
    status = response.json()
    assert status["status"] == "ok"
    assert status["services"]["postgres"] == "ok" and status["services"]["redis"] == "ok"
    assert status["services"]["workers"] >= 1
    assert status["model"] == "fake-model"
    assert isinstance(status["uptime"], float) and isinstance(status["memory_entries"], int)
    text = response.text
    assert stack.env["AION_API_TOKEN"] not in text and "sk-test" not in text


def _bad_bodies() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    json_headers = {"Content-Type": "application/json"}
    return [
        ("not json content type", b"message=hi", {"Content-Type": "text/plain"}, 415, "json"),
        ("broken json", b'{"message": "hi"', json_headers, 400, "JSON"),
        ("missing message", b'{"channel": "web"}', json_headers, 422, "message"),
        ("empty message", b'{"message": ""}', json_headers, 422, "message"),
        ("blank message", b'{"message": "   "}', json_headers, 422, "message"),
        ("too long", b'{"message": "' + b"x" * 32001 + b'"}', json_headers, 422, "message"),
        ("wrong type", b'{"message": 42}', json_headers, 422, "message"),
        ("unknown field", b'{"message": "hi", "mesage": "x"}', json_headers, 422, "mesage"),
        ("NUL in message", b'{"message": "a\\u0000b"}', json_headers, 422, "NUL"),
        ("bad channel", b'{"message": "hi", "channel": "a b/c"}', json_headers, 422, "channel"),
        (
            "bad image",
            b'{"message": "hi", "images": ["file:///etc/passwd"]}',
            json_headers,
            422,
            "images",
        ),
        ("bad voice", b'{"message": "hi", "voice": "loud"}', json_headers, 422, "voice"),
        ("array body", b'["hi"]', json_headers, 422, "body"),
    ]


@pytest.mark.parametrize(
    ("case", "body", "headers", "status", "mentions"), _bad_bodies(), ids=lambda v: str(v)[:20]
)
async def test_bad_chat_bodies_are_rejected_and_nothing_is_stored(
    client: httpx.AsyncClient,
    fake_llm: FakeLLM,
    case: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    mentions: str,
) -> None:
    channel = f"bad-{uuid.uuid4().hex[:8]}"
    body = body.replace(b'"channel": "web"', f'"channel": "{channel}"'.encode())
    before = len(chat_requests(fake_llm))
    response = await client.post("/api/chat", content=body, headers=headers)
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "detail"}
    assert mentions.lower() in payload["detail"].lower(), payload
    assert "Traceback" not in payload["detail"] and "/work" not in payload["detail"]
    assert await history(client, channel) == []
    assert len(chat_requests(fake_llm)) == before


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    huge = b'{"message": "' + b"x" * (21 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/chat", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


async def test_history_query_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/history", params={"limit": 0})
    assert response.status_code == 422 and "limit" in response.json()["detail"]
    response = await client.get("/api/history", params={"channel": "bad channel"})
    assert response.status_code == 422 and "channel" in response.json()["detail"]


async def test_reset_without_body_resets_web(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/reset")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert await history(client, "web") == []


async def test_generated_token_is_written_to_an_owner_only_file_and_works(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    """Without AION_API_TOKEN the first api start makes one into AION_API_TOKEN_FILE (never the
    log); later starts reuse its hash and say where the token is."""
    admin = localpg.with_database(database_url, "postgres")
    fresh = localpg.ensure_database(admin, f"aion_token_{uuid.uuid4().hex[:8]}")
    run_migrations(fresh)
    token_file = tmp_path / "secrets" / "aion_api_token"
    env = {k: v for k, v in stack.env.items() if k != "AION_API_TOKEN"}
    env.update(DATABASE_URL=fresh, AION_API_TOKEN_FILE=str(token_file))
    first = Stack(env=env, log_dir=tmp_path)
    api = first.start_api()
    first.stop()
    token = token_file.read_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token not in api.log() and str(token_file) in api.log()
    assert [p.name for p in token_file.parent.iterdir()] == ["aion_api_token"]  # no temp file

    second = Stack(env=env, log_dir=tmp_path)
    api = second.start_api()
    try:
        assert token_file.read_text().strip() == token  # kept, not made again
        assert token not in api.log() and str(token_file) in api.log()
        async with httpx.AsyncClient(base_url=second.api_url) as http:
            ok = await http.get("/api/channels", headers={"Authorization": f"Bearer {token}"})
            bad = await http.get("/api/channels", headers={"Authorization": "Bearer nope"})
        assert ok.status_code == 200 and bad.status_code == 401
    finally:
        second.stop()
