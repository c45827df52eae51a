"""arq start-up and shutdown hooks: they own the connections and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from services.worker import control, plugin_sync
from services.worker.config import WorkerConfig
from services.worker.context import WorkerContext
from services.worker.health import HealthServer
from services.worker.memory import embed_server, upkeep
from services.worker.memory.embedding import build_embedder
from services.worker.provider_metrics import MeteredProvider
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from services.worker.settings_cache import SettingsCache
from services.worker.tools.plugins import PluginManager
from shared.db import open_pool
from shared.turn_bus import TurnBus

log = logging.getLogger("aion.worker")


async def on_startup(ctx: dict[str, Any]) -> None:
    config: WorkerConfig = ctx["config"]
    api_key = config.openai_api_key.get_secret_value() if config.openai_api_key else ""
    pool = await open_pool(config.database_url, max_size=config.aion_db_pool_size)
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
        ),
        provider=MeteredProvider(
            OpenAICompatibleProvider(
                # The SDK refuses an empty key; a keyless local server (Ollama) accepts any.
                api_key=api_key or "not-set",
                base_url=config.openai_base_url,
                timeout=config.aion_provider_timeout_seconds,
                max_retries=config.aion_provider_max_retries,
            )
        ),
        plugins=PluginManager(config, user_dir=config.aion_plugins_dir),
        wake=ctx["wake"],
        draining=ctx["draining"],
        # An internal service: never through a proxy from the environment.
        tts=httpx.AsyncClient(
            base_url=config.aion_tts_url,
            timeout=config.aion_tts_timeout_seconds,
            trust_env=False,
        ),
        embedder=await asyncio.to_thread(build_embedder, config),
    )
    await plugin_sync.refresh(app, reload=True)
    await app.bus.heartbeat(app.worker_id, config.aion_worker_lease_seconds)
    app.background += [
        asyncio.create_task(control.heartbeat(app), name="aion-heartbeat"),
        asyncio.create_task(control.listen(app), name="aion-control"),
        asyncio.create_task(embed_server.serve(app), name="aion-embed-rpc"),
        asyncio.create_task(upkeep.embed_stale(app), name="aion-memory-upkeep"),
    ]
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
    with contextlib.suppress(Exception):
        await app.bus.drop_worker(app.worker_id)
    await app.provider.aclose()
    await app.tts.aclose()
    await app.embedder.aclose()
    await app.pool.close()
