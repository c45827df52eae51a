"""arq start-up and shutdown hooks: they own the connections and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from pydantic import SecretStr

from services.worker import control, mcp_sync, plugin_sync
from services.worker.context import WorkerContext
from services.worker.health import HealthServer
from services.worker.mcp.manager import McpManager
from services.worker.memory import embed_server, upkeep
from services.worker.memory.embedding import build_embedder
from services.worker.owner_config import OwnerConfigCache
from services.worker.provider_metrics import MeteredProvider
from services.worker.providers.router import ProviderRouter
from services.worker.sandbox import open_sandbox
from services.worker.secrets_cache import SecretsCache
from services.worker.settings import WorkerSettings
from services.worker.tools.plugins import PluginManager
from shared.db import open_pool
from shared.retry import RedisRetry
from shared.turn_bus import TurnBus

log = logging.getLogger("aion.worker")


async def on_startup(ctx: dict[str, Any]) -> None:
    settings: WorkerSettings = ctx["settings"]
    pool = await open_pool(
        settings.database_url,
        max_size=settings.aion_db_pool_size,
        wait_seconds=settings.aion_db_wait_seconds,
    )
    secrets = SecretsCache(pool, settings.vault(), settings.env_secrets())
    app = WorkerContext(
        settings=settings,
        worker_id=ctx["worker_id"],
        redis=ctx["redis"],
        pool=pool,
        owner_config=OwnerConfigCache(pool),
        bus=TurnBus(
            ctx["redis"],
            ttl_seconds=settings.aion_event_ttl_seconds,
            maxlen=settings.aion_event_maxlen,
            lease_seconds=settings.aion_worker_lease_seconds,
            retry=RedisRetry(settings.aion_worker_redis_grace_seconds),
        ),
        secrets=secrets,
        provider=MeteredProvider(ProviderRouter(settings, secrets)),
        plugins=PluginManager(settings, user_dir=settings.aion_plugins_dir),
        wake=ctx["wake"],
        draining=ctx["draining"],
        # An internal service: never through a proxy from the environment.
        tts=httpx.AsyncClient(
            base_url=settings.aion_tts_url,
            timeout=settings.aion_tts_timeout_seconds,
            trust_env=False,
            headers=_bearer(settings.aion_tts_token),
        ),
        embedder=await asyncio.to_thread(build_embedder, settings),
        sandbox=await open_sandbox(settings),
    )
    app.mcp = McpManager(
        app.sandbox,
        connect_timeout=settings.aion_mcp_connect_timeout_seconds,
        stdio_mounts=settings.aion_mcp_stdio_mounts,
        publish=lambda status: mcp_sync.publish(app, status),
    )
    await plugin_sync.refresh(app, reload=True)
    await mcp_sync.refresh(app, connect=False)  # connections are opened when first needed
    await app.bus.heartbeat(app.worker_id, settings.aion_worker_lease_seconds)
    app.background += [
        asyncio.create_task(control.heartbeat(app), name="aion-heartbeat"),
        asyncio.create_task(control.listen(app), name="aion-control"),
        asyncio.create_task(embed_server.serve(app), name="aion-embed-rpc"),
    ]
    app.spawn(upkeep.embed_stale(app))  # ends once old vectors are re-embedded
    if settings.aion_worker_metrics_port:
        app.health = HealthServer(
            app, settings.aion_worker_metrics_host, settings.aion_worker_metrics_port
        )
        app.health.start()
    ctx["aion"] = app
    log.info("worker ready", extra={"worker_id": app.worker_id})


async def on_shutdown(ctx: dict[str, Any]) -> None:
    app: WorkerContext | None = ctx.get("aion")
    if app is None:
        return
    if app.health is not None:
        await app.health.stop()
    for task in app.background:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await app.stop_chores()
    await app.mcp.aclose()
    with contextlib.suppress(Exception):
        await app.bus.drop_worker(app.worker_id)
    await app.provider.aclose()
    await app.tts.aclose()
    await app.sandbox.aclose()
    await app.embedder.aclose()
    await app.pool.close()


def _bearer(token: SecretStr | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
