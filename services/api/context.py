"""Everything the api process holds for its lifetime, made in the lifespan and closed after."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from services.api.alexa.certs import AlexaTrust, amazon_trust
from services.api.alexa.verify import AlexaVerifier
from services.api.auth import Credentials, TokenVerifier, load_verifier
from services.api.draining import DrainState
from services.api.event_hub import EventHub
from services.api.model_lists import ModelLists
from services.api.sessions import SessionStore
from services.api.settings import ApiSettings
from services.api.throttle import FailedTokens, PublicRate
from services.api.ttl_cache import TtlCache
from shared.db import Pool, open_pool
from shared.jobs import QUEUE_NAME, deserialize_job, serialize_job
from shared.sealing import Sealer
from shared.turn_bus import TurnBus
from shared.vault import Vault

# How long the public status reuses its memory count (a count(*) over every memory).
STATUS_COUNT_SECONDS = 5.0


@dataclass(frozen=True)
class AppContext:
    settings: ApiSettings
    pool: Pool
    redis: ArqRedis
    bus: TurnBus
    hub: EventHub
    credentials: Credentials
    alexa: AlexaVerifier
    started_at: float
    vault: Vault
    handover: Sealer  # the telegram service's bot token, sealed for it alone
    env_secrets: dict[str, str]  # provider keys given in the environment (the defaults)
    http: httpx.AsyncClient  # outbound calls: model lists, Google's token endpoint
    model_lists: ModelLists
    failed_tokens: FailedTokens  # per-address backoff of wrong bearer tokens
    public_rate: PublicRate  # per-address rate limit of the public routes
    memory_count: TtlCache[int]  # the public status's count, not counted per request
    sessions: SessionStore  # the console's cookie sessions
    drain: DrainState = field(default_factory=DrainState)


@asynccontextmanager
async def app_context(
    settings: ApiSettings, alexa_trust: AlexaTrust | None = None
) -> AsyncIterator[AppContext]:
    """`alexa_trust`: Amazon's certificates and roots unless given (see `create_app`)."""
    pool = await open_pool(
        settings.database_url,
        max_size=settings.aion_db_pool_size,
        wait_seconds=settings.aion_db_wait_seconds,
    )
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=QUEUE_NAME,
    )
    hub = EventHub(redis)
    exits = AsyncExitStack()
    http = httpx.AsyncClient(timeout=settings.aion_models_timeout_seconds)
    try:
        await hub.start()
        if alexa_trust is None:
            alexa_trust = await exits.enter_async_context(amazon_trust())
        api_token = settings.aion_api_token.get_secret_value() if settings.aion_api_token else None
        telegram_token = settings.aion_telegram_service_token
        metrics_token = settings.aion_metrics_token
        yield AppContext(
            settings=settings,
            pool=pool,
            redis=redis,
            bus=TurnBus(
                redis,
                ttl_seconds=settings.aion_event_ttl_seconds,
                maxlen=settings.aion_event_maxlen,
                lease_seconds=settings.aion_worker_lease_seconds,
            ),
            hub=hub,
            credentials=Credentials(
                owner=await load_verifier(api_token, pool, settings.aion_api_token_file),
                telegram=TokenVerifier.of(telegram_token.get_secret_value())
                if telegram_token
                else None,
                metrics=TokenVerifier.of(metrics_token.get_secret_value())
                if metrics_token
                else None,
            ),
            alexa=AlexaVerifier(settings.alexa_skill_id, alexa_trust),
            started_at=time.monotonic(),
            vault=settings.vault(),
            handover=settings.handover(),
            env_secrets=settings.env_secrets(),
            http=http,
            model_lists=ModelLists(http, ttl=settings.aion_models_cache_seconds),
            failed_tokens=FailedTokens(redis),
            public_rate=PublicRate(redis, settings.aion_public_rate_limit),
            memory_count=TtlCache(STATUS_COUNT_SECONDS),
            sessions=SessionStore(redis, max(1, round(settings.aion_session_days * 86400))),
        )
    finally:
        await exits.aclose()
        await http.aclose()
        await hub.stop()
        await redis.aclose()
        await pool.close()
