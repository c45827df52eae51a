"""Keeps this worker's plugins in step with the owner's choices, and tells the api it did."""

from __future__ import annotations

import asyncio
import logging

import orjson

from services.worker import notify
from services.worker.acks import acknowledge
from services.worker.context import WorkerContext
from shared.control import PluginsChanged
from shared.db import plugins as plugins_repo
from shared.plugin_catalog import CATALOG_KEY, Catalog

log = logging.getLogger("aion.worker.plugins")


async def refresh(app: WorkerContext, *, reload: bool) -> None:
    """Re-read the enabled states (and re-import plugin code when `reload`), then publish the
    catalog the api lists."""
    async with app.plugin_lock:
        async with app.pool.connection() as conn:
            states = await plugins_repo.enabled_states(conn)
        app.plugins.set_states(states)
        # The states first: a user plugin's code is imported only once it is enabled.
        load = app.plugins.load_all if reload else app.plugins.load_enabled
        await asyncio.to_thread(load)  # imports may be slow: not in the loop
        app.mcp.reserve(set(app.plugins.tools))  # an MCP tool never takes a plugin tool's name
        catalog = Catalog(worker_id=app.worker_id, plugins=app.plugins.catalog())
        await app.redis.set(CATALOG_KEY, catalog.model_dump_json())
    await notify.plugins_failed(app, catalog.plugins)


async def apply(app: WorkerContext, message: PluginsChanged) -> None:
    """Handle a `plugins_changed` broadcast; acknowledge it with the tools now offered."""
    try:
        await refresh(app, reload=message.reload)
    except Exception:
        log.exception("could not apply a plugin change", extra={"worker_id": app.worker_id})
        return  # no acknowledgement: the api reports this worker as not confirmed
    await acknowledge(app, message.request_id, orjson.dumps(sorted(app.plugins.tools)))
