"""The api's front gate: who is let in, and how much body, is settled before any body is read;
wrong tokens back off per address, the public routes are rate-limited per address."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from services.api.access import LARGE_BODIES, PUBLIC, UPLOADS
from services.api.deps import require_token
from services.api.main import create_app
from services.api.throttle import FREE_FAILURES, MAX_BACKOFF_SECONDS, backoff_seconds
from tests.conftest import API_TOKEN, TELEGRAM_HANDOVER_KEY, TELEGRAM_SERVICE_TOKEN
from tests.helpers import eventually, fresh_address
from tests.stack import ROOT, Stack, free_port

MiB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """VmHWM (the process's peak resident memory so far) in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


def reset_peak_rss(pid: int) -> None:
    """Writing 5 to clear_refs sets VmHWM back to the current RSS (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def test_an_unauthenticated_huge_body_is_refused_before_it_is_read(stack: Stack) -> None:
    api = stack.api
    assert api is not None
    body = b"[" + b"{}," * (6 * MiB) + b"{}]"  # 18 MiB of JSON, under AION_MAX_BODY_BYTES
    headers = {"Content-Type": "application/json", "X-Forwarded-For": fresh_address()}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60.0) as http:
        # Warm the same path up first: lazy imports on a first request are not the attack.
        warm = await http.post("/api/chat", content=b"[{}]", headers=headers)
        assert warm.status_code == 401
        reset_peak_rss(api.pid)
        before = peak_rss(api.pid)
        started = time.monotonic()
        response = await http.post("/api/chat", content=body, headers=headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "Unauthorized"
    grown = peak_rss(api.pid) - before
    assert grown < 10 * MiB, f"the api's peak memory grew by {grown / MiB:.0f} MiB"
    assert elapsed < 5.0, f"refused after {elapsed:.1f} s"


async def answer_to_headers(url: str, head: str) -> tuple[int, dict[str, str]]:
    """Send only a request's line and headers (its body never follows) and read the answer:
    a server that waited for the body would never answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode())
        await writer.drain()
        async with asyncio.timeout(5.0):
            status_line = await reader.readline()
            lines = []
            while (line := await reader.readline()) not in (b"\r\n", b""):
                lines.append(line.decode().strip())
    finally:
        writer.close()
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return int(status_line.split()[1]), headers


@pytest.mark.parametrize(
    ("method", "path", "token", "length", "status"),
    [
        pytest.param("POST", "/api/chat", None, 18 * MiB, 401, id="no token"),
        pytest.param("POST", "/api/keys", "not-it-" + "x" * 30, 64, 401, id="wrong token"),
        pytest.param("POST", "/api/keys", TELEGRAM_SERVICE_TOKEN, MiB, 403, id="bot on keys"),
        pytest.param("POST", "/api/config/settings", API_TOKEN, 300 * 1024, 413, id="owner"),
        pytest.param("POST", "/api/alexa", None, 300 * 1024, 413, id="public route"),
        pytest.param("POST", "/api/nothing-here", None, 64, 401, id="unknown path"),
    ],
)
async def test_refused_from_the_headers_alone(
    stack: Stack, method: str, path: str, token: str | None, length: int, status: int
) -> None:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: aion\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nX-Forwarded-For: {fresh_address()}\r\n{auth}\r\n"
    )
    answer, headers = await answer_to_headers(stack.api_url, head)
    assert answer == status
    if status == 401:
        assert headers["www-authenticate"] == "Bearer"


async def test_large_bodies_only_where_they_are_needed(client: httpx.AsyncClient) -> None:
    big = "x" * (300 * 1024)  # over 256 KiB: only the chat and prompt routes take it
    for path, body in (
        ("/api/chat", {"message": big}),
        ("/api/prompt/rules", {"content": big}),
        ("/api/config/settings", {"timezone": big}),
        ("/api/keys", {"OPENAI_API_KEY": big}),
    ):
        response = await client.post(path, json=body)
        large = ("POST", path) in LARGE_BODIES
        # Taken in and read (then refused as too long a field), or refused unread.
        assert response.status_code == (422 if large else 413), (path, response.text)
        assert set(response.json()) == {"error", "detail"}


def app_routes() -> list[tuple[str, str, bool]]:
    """(method, template, whether it declares the Authorized dependency) of every route."""
    found = []
    for included in create_app().router.routes:  # FastAPI keeps each included router whole
        router = included.original_router  # type: ignore[attr-defined]
        for route in router.routes:
            deps = [d.dependency for d in [*router.dependencies, *route.dependencies]]
            found += [(method, route.path, require_token in deps) for method in route.methods]
    return found


def test_the_gate_and_the_routers_agree_on_what_is_public() -> None:
    """A route is public in the gate's list exactly when its router asks for no token; a renamed
    route leaves no stale public (or large-body) entry behind."""
    routes = app_routes()
    for method, template, authorized in routes:
        assert ((method, template) in PUBLIC) is not authorized, (method, template)
    assert {t for _, t in PUBLIC.pairs()} <= {t for _, t, _ in routes}
    assert LARGE_BODIES.pairs() <= {(m, t) for m, t, _ in routes}
    assert UPLOADS.pairs() <= {(m, t) for m, t, _ in routes}


async def test_uploads_are_multipart_and_bounded_before_they_are_read(
    client: httpx.AsyncClient,
) -> None:
    """POST /api/files takes multipart/form-data only, and a body declared larger than
    AION_FILE_MAX_BYTES (+ framing) is refused unread; every other route stays JSON-only."""
    as_json = await client.post("/api/files", json={"file": "x"})
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["detail"]
    over = b"x" * (20 * 1024 * 1024 + 65 * 1024)  # past the limit and the framing's room
    too_big = await client.post("/api/files", files={"file": ("big.txt", over)})
    assert too_big.status_code == 413, too_big.text
    assert "larger than" in too_big.json()["detail"]
    multipart_chat = await client.post("/api/chat", files={"file": ("a.txt", b"a")})
    assert multipart_chat.status_code == 415


async def test_an_address_that_keeps_sending_wrong_tokens_backs_off(stack: Stack) -> None:
    assert stack.api is not None
    attacker = fresh_address()
    wrong = "wrong-" + uuid.uuid4().hex + "-" + uuid.uuid4().hex
    from_attacker = {"X-Forwarded-For": attacker}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10.0) as http:

        async def attempt(token: str) -> httpx.Response:
            headers = {**from_attacker, "Authorization": f"Bearer {token}"}
            return await http.get("/api/config", headers=headers)

        for _ in range(FREE_FAILURES + 1):  # the free ones, then one that starts a 1 s block
            assert (await attempt(wrong)).status_code == 401
        blocked = await attempt(API_TOKEN)  # even the right token: nothing is checked
        assert blocked.status_code == 429, blocked.text
        assert blocked.json()["error"] == "TooManyRequests"
        assert int(blocked.headers["retry-after"]) == 1
        # The owner elsewhere is not affected.
        owner = {"Authorization": f"Bearer {API_TOKEN}", "X-Forwarded-For": fresh_address()}
        assert (await http.get("/api/config", headers=owner)).status_code == 200

        async def let_in() -> bool:  # refusals while blocked do not count as failures
            return (await attempt(API_TOKEN)).status_code == 200

        await eventually(let_in, "the block to end", timeout=5.0)
        assert (await attempt(wrong)).status_code == 401  # the next failure: twice as long
        blocked = await attempt(wrong)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) == 2
    log = stack.api.log()
    assert f"refused a bearer token from {attacker} on GET '/api/config'" in log
    assert wrong not in log


def test_the_backoff_is_bounded() -> None:
    assert [backoff_seconds(FREE_FAILURES + n) for n in range(5)] == [0, 1, 2, 4, 8]
    assert backoff_seconds(FREE_FAILURES + 10_000) == MAX_BACKOFF_SECONDS == 300


async def test_public_routes_are_rate_limited_per_address(stack: Stack) -> None:
    async def early_in_the_minute() -> bool:  # the limit counts per clock minute
        return time.time() % 60 < 45

    await eventually(early_in_the_minute, "the start of a minute", timeout=20.0)
    crowd = {"X-Forwarded-For": fresh_address()}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10.0) as http:
        for _ in range(60):  # AION_PUBLIC_RATE_LIMIT's default
            assert (await http.get("/api/status", headers=crowd)).status_code == 200
        refused = await http.get("/api/status", headers=crowd)
        assert refused.status_code == 429 and refused.json()["error"] == "TooManyRequests"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        alexa = await http.post("/api/alexa", json={}, headers=crowd)
        assert alexa.status_code == 429
        # Probes are never limited; other addresses are not affected.
        assert (await http.get("/readyz", headers=crowd)).status_code == 200
        elsewhere = {"X-Forwarded-For": fresh_address()}
        assert (await http.get("/api/status", headers=elsewhere)).status_code == 200


async def test_status_counts_memories_at_most_every_few_seconds(
    stack: Stack, db: psycopg.AsyncConnection[tuple[object, ...]]
) -> None:
    viewer = {"X-Forwarded-For": fresh_address()}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=viewer, timeout=10.0) as http:

        async def counted() -> int:
            response = await http.get("/api/status")
            assert response.status_code == 200
            return int(response.json()["memory_entries"])

        before = await counted()
        cur = await db.execute(
            "INSERT INTO memories (content, source) VALUES ('status cache test', 'test') "
            "RETURNING id"
        )
        row = await cur.fetchone()
        assert row is not None
        try:
            assert await counted() == before  # the count was not run again

            async def caught_up() -> bool:
                await asyncio.sleep(0.2)  # pace the polling under the public rate limit
                return await counted() > before

            await eventually(caught_up, "the status to count again", timeout=10.0)
        finally:
            await db.execute("DELETE FROM memories WHERE id = %s", (row[0],))


async def test_keys_never_show_the_api_credentials(client: httpx.AsyncClient) -> None:
    text = (await client.get("/api/keys")).text
    for name, value in (
        ("AION_API_TOKEN", API_TOKEN),
        ("AION_TELEGRAM_SERVICE_TOKEN", TELEGRAM_SERVICE_TOKEN),
        ("AION_TELEGRAM_HANDOVER_KEY", TELEGRAM_HANDOVER_KEY),
    ):
        assert name not in text
        assert value[:4] + "…" + value[-4:] not in text


@pytest.mark.parametrize("name", ["AION_API_TOKEN", "AION_TELEGRAM_SERVICE_TOKEN"])
def test_a_short_token_stops_the_start(stack: Stack, name: str) -> None:
    short = "short-" + uuid.uuid4().hex[:8]
    env = {**stack.env, name: short, "AION_PORT": str(free_port())}
    started = subprocess.run(
        [sys.executable, "-m", "services.api"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = started.stdout + started.stderr
    assert started.returncode != 0
    assert f"{name} is shorter than 32 characters" in said
    assert short not in said
