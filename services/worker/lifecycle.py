"""arq start-up and shutdown hooks: they own the connections and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from pydantic import SecretStr

from services.worker import control, mcp_sync, plugin_sync
from services.worker.config import WorkerConfig
from services.worker.context import WorkerContext
from services.worker.health import HealthServer
from services.worker.mcp.manager import McpManager
from services.worker.memory import embed_server, upkeep
from services.worker.memory.embedding import build_embedder
from services.worker.provider_metrics import MeteredProvider
from services.worker.providers.router import ProviderRouter
from services.worker.sandbox import open_sandbox
from services.worker.secrets_cache import SecretsCache
from services.worker.settings_cache import SettingsCache
from services.worker.tools.plugins import PluginManager
from shared.db import open_pool
from shared.retry import RedisRetry
from shared.turn_bus import TurnBus

log = logging.getLogger("aion.worker")


async def on_startup(ctx: dict[str, Any]) -> None:
    config: WorkerConfig = ctx["config"]
    pool = await open_pool(
        config.database_url,
        max_size=config.aion_db_pool_size,
        wait_seconds=config.aion_db_wait_seconds,
    )
    secrets = SecretsCache(pool, config.vault(), config.env_secrets())
    app = WorkerContext(
        config=config,
        worker_id=ctx["worker_id"],
        redis=ctx["redis"],
        pool=pool,
        settings=SettingsCache(pool),
        bus=TurnBus(
            ctx["redis"],
            ttl_seconds=config.aion_event_ttl_seconds,
            maxlen=config.aion_event_maxlen,
            lease_seconds=config.aion_worker_lease_seconds,
            retry=RedisRetry(config.aion_worker_redis_grace_seconds),
        ),
        secrets=secrets,
        provider=MeteredProvider(ProviderRouter(config, secrets)),
        plugins=PluginManager(config, user_dir=config.aion_plugins_dir),
        wake=ctx["wake"],
        draining=ctx["draining"],
        # An internal service: never through a proxy from the environment.
        tts=httpx.AsyncClient(
            base_url=config.aion_tts_url,
            timeout=config.aion_tts_timeout_seconds,
            trust_env=False,
            headers=_bearer(config.aion_tts_token),
        ),
        embedder=await asyncio.to_thread(build_embedder, config),
        sandbox=await open_sandbox(config),
    )
    app.mcp = McpManager(
        app.sandbox,
        connect_timeout=config.aion_mcp_connect_timeout_seconds,
        stdio_mounts=config.aion_mcp_stdio_mounts,
        publish=lambda status: mcp_sync.publish(app, status),
    )
    await plugin_sync.refresh(app, reload=True)
    await mcp_sync.refresh(app, connect=False)  # connections are opened when first needed
    await app.bus.heartbeat(app.worker_id, config.aion_worker_lease_seconds)
    app.background += [
        asyncio.create_task(control.heartbeat(app), name="aion-heartbeat"),
        asyncio.create_task(control.listen(app), name="aion-control"),
        asyncio.create_task(embed_server.serve(app), name="aion-embed-rpc"),
    ]
    app.spawn(upkeep.embed_stale(app))  # ends once old vectors are re-embedded
    if config.aion_worker_metrics_port:
        app.health = HealthServer(
            app, config.aion_worker_metrics_host, config.aion_worker_metrics_port
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
