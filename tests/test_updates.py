"""Update check: GET /api/update-status, POST /api/update-trigger, the worker's check job.

The real api and worker run against a local fake of GitHub's releases API (tests/fakegithub.py),
on a database and a Redis database of their own: workers of the other tests (no update repo
set) must not take this module's check jobs.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis
from arq.constants import job_key_prefix

from scripts import localpg
from services.worker.updates import CHECK_UPDATES_DAILY, NOT_SET, normalize_repo
from shared import __version__
from shared.jobs import CHECK_UPDATES, QUEUE_NAME, UPDATE_CHECK_JOB_ID, deserialize_job
from shared.updates import is_newer, parse_version
from tests.fakegithub import NOT_FOUND, FakeGitHub, Reply, release_object
from tests.helpers import eventually
from tests.sse import iter_events
from tests.stack import Stack, run_migrations

REPO = "aion-project/aion"
TOKEN = "updates-token-" + uuid.uuid4().hex
API_FIELDS = {
    "current_version",
    "latest_version",
    "update_available",
    "release_url",
    "release_notes",
    "last_checked",
    "error",
}
_running = parse_version(__version__)
assert _running is not None and not _running.is_prerelease, "tags below assume a stable version"
NEWER = f"{_running.major}.{_running.minor + 1}.0"
SAME = __version__


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="module")
def updates_stack(github: FakeGitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    admin_url = os.environ.get("DATABASE_URL") or localpg.ensure_server()
    name = f"aion_test_updates_{uuid.uuid4().hex[:10]}"
    database_url = localpg.ensure_database(admin_url, name)
    run_migrations(database_url)
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    db_number = os.environ.get("AION_TEST_UPDATES_REDIS_DB", "12")
    redis_url = urlunsplit(base._replace(path=f"/{db_number}"))
    redis.Redis.from_url(redis_url).flushdb()
    passthrough = {k: v for k, v in os.environ.items() if not k.startswith(("AION_", "OPENAI_"))}
    env = {
        **passthrough,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AION_API_TOKEN": TOKEN,
        "AION_UPDATE_REPO": REPO,
        "AION_UPDATE_API_URL": github.url,
        "AION_UPDATE_TIMEOUT_SECONDS": "1",
    }
    stack = Stack(env=env, log_dir=tmp_path_factory.mktemp("updates-logs"))
    try:
        stack.start_api()
        stack.start_worker()
        _wait_for_first_check(stack)
        yield stack
    finally:
        stack.stop()
        redis.Redis.from_url(redis_url).flushdb()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_for_first_check(stack: Stack) -> None:
    """Tests start once the check a starting worker makes is stored."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        body = httpx.get(f"{stack.api_url}/api/update-status", headers=headers).json()
        if body["last_checked"] is not None:
            return
        time.sleep(0.05)
    raise TimeoutError("the starting worker did not check for updates")


@pytest.fixture
async def client(updates_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=updates_stack.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as http:
        if not updates_stack.live_workers():
            updates_stack.start_worker()
        yield http


async def status(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/update-status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_check(
    client: httpx.AsyncClient, before: str | None, timeout: float = 15.0
) -> dict[str, Any]:
    """The status once a check newer than `before` is stored and none is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        body = await status(client)
        if body["last_checked"] != before and not body["checking"]:
            return body
        assert time.monotonic() < deadline, f"no update check finished: {body}"
        await asyncio.sleep(0.05)


async def check_now(client: httpx.AsyncClient) -> dict[str, Any]:
    """POST /api/update-trigger, then the status that check produced."""
    before = (await status(client))["last_checked"]
    response = await client.post("/api/update-trigger")
    assert response.status_code == 202, response.text
    assert response.json()["ok"] is True and response.json()["message"]
    return await wait_for_check(client, before)


async def restart_worker(stack: Stack, client: httpx.AsyncClient, **env: str) -> None:
    """One worker with `env` over the module's; returns after the check it makes as it starts."""
    before = (await status(client))["last_checked"]
    for worker in stack.live_workers():
        worker.stop()
    stack.start_worker(env)
    await wait_for_check(client, before)


async def test_a_newer_release_is_offered_with_the_tag_to_pull(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    github.release(REPO, f"v{NEWER}", "## What's new\n- faster")
    asked = len(github.requests)
    body = await check_now(client)
    assert set(body) >= API_FIELDS
    assert body["current_version"] == __version__
    assert body["latest_version"] == NEWER and body["update_available"] is True
    assert body["image_tag"] == NEWER and NEWER in body["message"]
    assert body["release_url"] == f"https://github.com/{REPO}/releases/tag/v{NEWER}"
    assert body["release_notes"] == "## What's new\n- faster"
    assert body["error"] is None and body["repo"] == REPO
    assert datetime.fromisoformat(body["last_checked"]) > datetime(2020, 1, 1, tzinfo=UTC)
    [request] = github.requests[asked:]
    assert request.path == f"/repos/{REPO}/releases/latest"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"].startswith(f"AION/{__version__}")
    # The console hears of it as a live notice (GET /api/events, every notice kept: 0-0).
    async with client.stream("GET", "/api/events", headers={"Last-Event-ID": "0-0"}) as events:
        async with asyncio.timeout(10):
            async for event in iter_events(events):
                if event.event == "update_available" and event.data["latest_version"] == NEWER:
                    break
    assert event.data["current_version"] == __version__
    assert event.data["release_url"] == body["release_url"]


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        (f"v{SAME}", SAME),  # the same release
        (SAME, SAME),  # without the v
        (f"v{SAME}-rc.1", f"{SAME}-rc.1"),  # older: a pre-release of the running version
        ("v0.0.9", "0.0.9"),  # older
        (f"v{NEWER}-beta.2", f"{NEWER}-beta.2"),  # newer, but a pre-release: not for stable
    ],
)
async def test_same_older_or_prerelease_is_not_an_update(
    client: httpx.AsyncClient, github: FakeGitHub, tag: str, shown: str
) -> None:
    github.release(REPO, tag)
    body = await check_now(client)
    assert body["latest_version"] == shown
    assert body["update_available"] is False and body["image_tag"] is None
    assert body["error"] is None and "up to date" in body["message"]


async def test_no_release_is_an_error_not_a_crash(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    github.release(REPO, f"v{NEWER}")
    await check_now(client)
    github.reply(REPO, Reply(404, NOT_FOUND))
    body = await check_now(client)
    assert "no published release" in body["error"]
    assert body["latest_version"] is None and body["update_available"] is False
    assert body["release_url"] is None and body["image_tag"] is None
    assert body["error"] in body["message"]


async def test_a_timeout_keeps_the_last_known_release(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    github.release(REPO, f"v{NEWER}")
    await check_now(client)
    github.reply(REPO, Reply(200, release_object(REPO, "v99.0.0"), delay=3.0))
    started = time.monotonic()
    body = await check_now(client)
    assert time.monotonic() - started < 2.5  # AION_UPDATE_TIMEOUT_SECONDS=1, not GitHub's 3 s
    assert "did not answer within 1 s" in body["error"]
    assert body["latest_version"] == NEWER and body["update_available"] is True
    assert "The last check failed" in body["message"]


async def test_primary_rate_limit_is_respected_until_its_reset(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    reset = int(time.time()) + 3
    headers = {
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "60",
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }
    message = {"message": "API rate limit exceeded for 192.0.2.1.", "documentation_url": "x"}
    github.reply(REPO, Reply(403, message, headers))
    body = await check_now(client)
    assert "rate limit" in body["error"]
    assert f"{datetime.fromtimestamp(reset, UTC):%H:%M:%S} UTC" in body["error"]
    asked = len(github.requests)
    body = await check_now(client)  # before the reset AION does not ask GitHub again
    assert len(github.requests) == asked and "rate limit" in body["error"]
    github.release(REPO, f"v{NEWER}")
    answers: list[dict[str, Any]] = []

    async def asked_after_the_reset() -> bool:  # until then, each check says "rate limit"
        answers.append(await check_now(client))
        return answers[-1]["error"] is None

    await eventually(
        asked_after_the_reset, "a check after the reset", timeout=reset - time.time() + 10
    )
    body = answers[-1]
    assert time.time() >= reset - 1
    assert len(github.requests) == asked + 1
    assert body["error"] is None and body["latest_version"] == NEWER


@pytest.mark.parametrize("status_code", [403, 429])
async def test_secondary_rate_limit_waits_for_retry_after(
    client: httpx.AsyncClient, github: FakeGitHub, status_code: int
) -> None:
    github.release(REPO, f"v{NEWER}")
    assert (await check_now(client))["update_available"] is True  # known before the limit
    message = {"message": "You have exceeded a secondary rate limit.", "documentation_url": "x"}
    github.reply(REPO, Reply(status_code, message, {"retry-after": "1"}))
    body = await check_now(client)
    assert "rate limit" in body["error"]
    # A rate limit says nothing about releases: what was known stays known.
    assert body["update_available"] is True and body["latest_version"] == NEWER
    github.release(REPO, f"v{NEWER}")

    async def asked_again() -> bool:  # once the second has passed (the next test may ask too)
        return (await check_now(client))["error"] is None

    await eventually(asked_again, "a check after the Retry-After", timeout=10)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(403, {"message": "Repository access blocked"}), "HTTP 403: Repository access"),
        (Reply(500, {"message": "Server Error"}), "HTTP 500"),
        (Reply(502, b"<html>Bad gateway</html>"), "HTTP 502."),
        (Reply(200, b"<html>Sign in to the hotel wifi</html>"), "not a release"),
        (Reply(200, {"unexpected": True}), "not a release"),
        (Reply(200, ["v1.0.0"]), "not a release"),
        (Reply(200, release_object(REPO, "nightly")), "'nightly' is not a version"),
    ],
)
async def test_strange_answers_are_errors(
    client: httpx.AsyncClient, github: FakeGitHub, reply: Reply, error: str
) -> None:
    github.reply(REPO, reply)
    body = await check_now(client)
    assert error in body["error"], body
    asked = len(github.requests)
    await check_now(client)  # no back-off for these: the next check asks again
    assert len(github.requests) == asked + 1


async def test_triggers_do_not_pile_up(
    client: httpx.AsyncClient, github: FakeGitHub, updates_stack: Stack
) -> None:
    github.release(REPO, f"v{NEWER}")
    for worker in updates_stack.live_workers():
        worker.stop()
    before = (await status(client))["last_checked"]
    answers = [await client.post("/api/update-trigger") for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert "queued" in answers[0].json()["message"]
    assert all("already queued" in a.json()["message"] for a in answers[1:])
    assert (await status(client))["checking"] is True
    queue = redis.Redis.from_url(updates_stack.env["REDIS_URL"])
    # one check job, whatever else the stopped workers' crons queued (reminder runs have ids of
    # their own and run once a worker is back)
    queued = queue.zrange(QUEUE_NAME, 0, -1)
    assert queued.count(UPDATE_CHECK_JOB_ID.encode()) == 1
    asked = len(github.requests)
    updates_stack.start_worker()
    body = await wait_for_check(client, before)
    assert body["update_available"] is True
    # the check a starting worker makes, and the one queued three times: two, never four
    await eventually(lambda: len(github.requests) >= asked + 2, "two checks", timeout=10)
    # Every check job queued (a job stays in the queue while it runs) has ended: one more
    # would have asked GitHub by now.
    await eventually(lambda: not queued_checks(queue), "no check job queued or running")
    assert len(github.requests) == asked + 2
    assert UPDATE_CHECK_JOB_ID.encode() not in queue.zrange(QUEUE_NAME, 0, -1)
    queue.close()


def queued_checks(queue: redis.Redis) -> list[str]:
    """The update check jobs (the owner's and the daily one) queued or running."""
    checks = []
    for job_id in queue.zrange(QUEUE_NAME, 0, -1):
        raw = queue.get(job_key_prefix + job_id.decode())
        if raw is not None and deserialize_job(raw)["f"] in (CHECK_UPDATES, CHECK_UPDATES_DAILY):
            checks.append(job_id.decode())
    return checks


async def test_offline_is_an_error_and_the_next_check_recovers(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    github.release(REPO, f"v{NEWER}")
    await check_now(client)
    github.stop()  # nothing listens on its port now: connection refused
    try:
        body = await check_now(client)
    finally:
        github.start()
    assert "Could not reach 127.0.0.1" in body["error"]
    assert body["latest_version"] == NEWER  # the last known release stays
    body = await check_now(client)
    assert body["error"] is None and body["update_available"] is True


async def test_without_a_repo_nothing_is_asked(
    client: httpx.AsyncClient, github: FakeGitHub, updates_stack: Stack
) -> None:
    github.release(REPO, f"v{NEWER}")
    asked = len(github.requests)
    try:
        await restart_worker(updates_stack, client, AION_UPDATE_REPO="")
        body = await check_now(client)
        assert body["error"] == NOT_SET and body["message"] == NOT_SET
        assert body["latest_version"] is None and body["repo"] is None
        assert body["update_available"] is False and body["release_url"] is None

        await restart_worker(updates_stack, client, AION_UPDATE_REPO="../../etc/passwd")
        body = await check_now(client)
        assert "is not a GitHub repository" in body["error"]
        assert body["latest_version"] is None
        assert len(github.requests) == asked  # no network call at all
    finally:
        await restart_worker(updates_stack, client)
    body = await check_now(client)
    assert body["error"] is None and body["latest_version"] == NEWER


async def test_nothing_crashed(updates_stack: Stack) -> None:
    assert updates_stack.api is not None and updates_stack.api.alive()
    assert updates_stack.live_workers()
    for service in [updates_stack.api, *updates_stack.workers]:
        assert "Traceback" not in service.log(), service.log()[-3000:]


@pytest.mark.parametrize(
    ("latest", "current", "newer"),
    [
        ("v1.0.0", "0.9.9", True),
        ("V2.0", "1.9", True),
        ("0.10.0", "0.9.0", True),  # not a string comparison
        ("1.0.0", "1.0.0", False),
        ("v1.0", "1.0.0", False),  # the same version, written differently
        ("0.9.0", "1.0.0", False),
        ("1.0.0-rc.1", "1.0.0", False),  # a pre-release comes before its release
        ("1.1.0rc1", "1.0.0", False),  # pre-releases are not offered to a stable install
        ("1.1.0rc2", "1.1.0rc1", True),  # ... but to a pre-release one
        ("1.1.0", "1.1.0rc1", True),
        ("1.0.0.post1", "1.0.0", True),
        ("nightly", "1.0.0", False),
        ("1.0.0", "not-a-version", False),
    ],
)
def test_version_comparison(latest: str, current: str, newer: bool) -> None:
    assert is_newer(latest, current) is newer


@pytest.mark.parametrize(
    ("value", "repo"),
    [
        ("aion-project/aion", "aion-project/aion"),
        (" aion-project/aion.git ", "aion-project/aion"),
        ("https://github.com/aion-project/aion", "aion-project/aion"),
        ("github.com/aion-project/aion/", "aion-project/aion"),
        ("aion", None),
        ("a/b/c", None),
        ("../../etc/passwd", None),
        ("owner/na me", None),
        ("-owner/name", None),
    ],
)
def test_repo_names(value: str, repo: str | None) -> None:
    assert normalize_repo(value) == repo
