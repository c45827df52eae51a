"""Test fixtures: real PostgreSQL+pgvector, real Redis, the real api and arq worker processes.

PostgreSQL: a fresh database per test session on the server at DATABASE_URL, or on a local
embedded PostgreSQL with pgvector when DATABASE_URL is unset. Redis: REDIS_URL's server, on a
database number of its own (AION_TEST_REDIS_DB, default 13), flushed at the start. Tests keep
out of each other's way by using channels of their own.
"""

from __future__ import annotations

import json
import os
import sysconfig
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from cryptography.fernet import Fernet

from scripts import localpg
from shared.jobs import QUEUE_NAME, deserialize_job, serialize_job
from tests.fakeanthropic import FakeAnthropic
from tests.fakegoogle import FakeGoogle
from tests.fakellm import FakeLLM
from tests.helpers import announce_settings_changed, fresh_address
from tests.providers_env import PROVIDER_ENV, provider_env
from tests.stack import Stack, run_migrations

API_TOKEN = "test-token-" + uuid.uuid4().hex
# The telegram service's own credential and handover key (shared/secret_files.py makes them in
# compose and `make dev`); every test process gets the same environment.
TELEGRAM_SERVICE_TOKEN = "test-telegram-" + uuid.uuid4().hex
TTS_TOKEN = "test-tts-" + uuid.uuid4().hex
METRICS_TOKEN = "test-metrics-" + uuid.uuid4().hex
TTS_AUTH = {"Authorization": f"Bearer {TTS_TOKEN}"}  # what the workers present to tts
TELEGRAM_HANDOVER_KEY = Fernet.generate_key().decode()
PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"  # the owner's plugin folder in tests
FAKEMCP_DIR = Path(__file__).resolve().parent / "fakemcp"


def _redis_url() -> str:
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(base._replace(path="/" + os.environ.get("AION_TEST_REDIS_DB", "13")))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_url = os.environ.get("DATABASE_URL") or localpg.ensure_server()
    name = f"aion_test_{uuid.uuid4().hex[:12]}"
    url = localpg.ensure_database(admin_url, name)
    run_migrations(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def queue_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    """An arq pool on a Redis database of its own (the stack's db + 1), flushed before and
    after: turn transport tests there are never taken by a running worker."""
    parts = urlsplit(redis_url)
    own_db = urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 1}"))
    pool = await create_pool(
        RedisSettings.from_dsn(own_db),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=QUEUE_NAME,
    )
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = _redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audio store shared by the api, the worker and the tts service."""
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def workspace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workers' AION_WORKSPACE_DIR (the files and shell tools' folder)."""
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="session")
def fake_google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


@pytest.fixture(scope="session")
def service_env(
    database_url: str,
    redis_url: str,
    fake_llm: FakeLLM,
    audio_dir: Path,
    workspace_dir: Path,
    fake_anthropic: FakeAnthropic,
    fake_google: FakeGoogle,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    passthrough = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_ENV)}
    return {
        **provider_env(fake_llm, fake_anthropic, fake_google, tmp_path_factory),
        **passthrough,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OPENAI_BASE_URL": fake_llm.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
        "AION_MODEL": "fake-model",
        "AION_API_TOKEN": API_TOKEN,
        "AION_TELEGRAM_SERVICE_TOKEN": TELEGRAM_SERVICE_TOKEN,
        "AION_TELEGRAM_HANDOVER_KEY": TELEGRAM_HANDOVER_KEY,
        "AION_TTS_TOKEN": TTS_TOKEN,
        "AION_METRICS_TOKEN": METRICS_TOKEN,
        "AION_PROVIDER_MAX_RETRIES": "0",
        "AION_LOG_JSON": "true",
        "AION_PLUGINS_DIR": str(PLUGINS_DIR),
        "AION_AUDIO_DIR": str(audio_dir),
        "AION_WORKSPACE_DIR": str(workspace_dir),
        # The tests' stdio MCP server under bubblewrap: its script and the `mcp` package.
        "AION_MCP_STDIO_MOUNTS": json.dumps([str(FAKEMCP_DIR), sysconfig.get_paths()["purelib"]]),
        "AION_REMINDER_CHECK_SECONDS": "1",  # due reminders go out within a second
        "AION_MEMORY_EXTRACT_CHECK_SECONDS": "1",  # due memory extraction starts within one
        # The fake speaks OpenAI's wire format, prompt_cache_key included.
        "AION_PROMPT_CACHE_KEY": "on",
        # Loopback is a trusted proxy here: a test that sends X-Forwarded-For comes from an
        # address of its own, for the per-address limits (tests/frontdoor/test_gate.py).
        "AION_TRUSTED_PROXIES": "127.0.0.1",
    }


@pytest.fixture(scope="session")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("logs")
    running = Stack(env=service_env, log_dir=log_dir)
    try:
        running.start_api()
        running.start_worker()
        yield running
    finally:
        running.stop()


@pytest.fixture
def tts(stack: Stack) -> Stack:
    """The stack with its tts service running (started on first use, again after a stop)."""
    if stack.tts is None or not stack.tts.alive():
        stack.start_tts()
    return stack


@pytest.fixture
def ensure_worker(stack: Stack) -> Stack:
    """At least one live worker (a test may have killed one)."""
    if not stack.live_workers():
        stack.start_worker()
    return stack


@pytest.fixture
async def client(ensure_worker: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=ensure_worker.api_url,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=httpx.Timeout(30.0),
    ) as http:
        yield http


@pytest.fixture
async def anonymous(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no token, from an address of its own (the stack trusts loopback as a proxy):
    the public routes' rate limit and the failed-token backoff count each test apart."""
    headers = {"X-Forwarded-For": fresh_address()}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=10.0) as http:
        yield http


@pytest.fixture
def channel() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
async def fresh_settings(
    db: psycopg.AsyncConnection[tuple[object, ...]], redis_url: str
) -> AsyncIterator[None]:
    """Every setting back to its default after the test, on every worker."""
    yield
    await db.execute("DELETE FROM settings")
    await announce_settings_changed(redis_url)
