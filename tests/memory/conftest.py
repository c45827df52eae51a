"""Memory test fixtures: the real local embedder (loaded once) and an in-process WorkerContext
over the session's PostgreSQL and Redis, for calling the worker's memory code directly."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from pydantic import SecretStr

from services.worker.context import WorkerContext
from services.worker.memory.embedding import BatchingEmbedder
from services.worker.memory.local_embedder import LocalModel
from services.worker.owner_config import OwnerConfigCache
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from services.worker.secrets_cache import SecretsCache
from services.worker.settings import WorkerSettings
from services.worker.tools.context import ToolContext
from services.worker.tools.plugins import PluginManager
from shared.app_settings import AppSettings
from shared.db import open_pool
from shared.jobs import QUEUE_NAME, deserialize_job, serialize_job
from shared.turn_bus import TurnBus
from tests.fakellm import FakeLLM


@pytest.fixture(scope="session")
def local_model() -> LocalModel:
    return LocalModel.load()


@pytest.fixture(scope="session")
def embedder(local_model: LocalModel) -> Iterator[BatchingEmbedder]:
    batching = BatchingEmbedder(local_model.name, local_model.encode)
    yield batching


@pytest.fixture(scope="session")
async def worker_app(
    database_url: str, redis_url: str, fake_llm: FakeLLM, embedder: BatchingEmbedder
) -> AsyncIterator[WorkerContext]:
    settings = WorkerSettings(
        database_url=database_url,
        redis_url=redis_url,
        openai_base_url=fake_llm.base_url,
        openai_api_key=SecretStr("sk-test-not-a-real-key"),
    )
    redis = await create_pool(
        RedisSettings.from_dsn(redis_url),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=QUEUE_NAME,
    )
    pool = await open_pool(database_url, max_size=4)
    provider = OpenAICompatibleProvider(
        api_key="sk-test-not-a-real-key", base_url=fake_llm.base_url, timeout=30, max_retries=0
    )
    app = WorkerContext(
        settings=settings,
        worker_id=f"memory-test-{uuid.uuid4().hex[:6]}",
        redis=redis,
        pool=pool,
        bus=TurnBus(redis, ttl_seconds=600, maxlen=1000, lease_seconds=5),
        owner_config=OwnerConfigCache(pool),
        secrets=SecretsCache(pool, settings.vault(), settings.env_secrets()),
        provider=provider,
        plugins=PluginManager(settings, user_dir=None),
        tts=httpx.AsyncClient(base_url="http://127.0.0.1:9"),  # speech is not used here
        wake=asyncio.Event(),
        embedder=embedder,
    )
    yield app
    await app.tts.aclose()
    await provider.aclose()
    await pool.close()
    await redis.aclose()


@pytest.fixture
async def no_memories(db) -> AsyncIterator[None]:
    """An empty memory before and after the test (other tests' turns recall from it), and no
    earlier test's conversation left for extraction to read into it meanwhile."""
    await db.execute(
        "UPDATE conversations c SET extract_after = NULL, extracted_upto = COALESCE("
        "(SELECT max(id) FROM messages m WHERE m.conversation_id = c.id), 0)"
        " WHERE extract_after IS NOT NULL"
    )
    await db.execute("DELETE FROM memories")
    yield
    await db.execute("DELETE FROM memories")


async def _ignore(*_: object) -> None:
    return None


def tool_context(app: WorkerContext, channel: str = "web") -> ToolContext:
    return ToolContext(
        app=app,
        turn_id=uuid.uuid4().hex,
        channel=channel,
        call_id="call_test",
        owner_settings=AppSettings(),
        progress=_ignore,
        thought=_ignore,
        add_block=lambda _: None,
    )
