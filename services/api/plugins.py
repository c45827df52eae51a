"""Plugins from the api's side: the catalog workers report, and changes every worker applies
before the call returns."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from services.api.context import AppContext
from services.api.errors import NotFound, ServiceUnavailable
from shared.control import CONTROL_CHANNEL, ControlMessage, PluginsChanged, encode_control
from shared.db import Conn
from shared.db import plugins as repo
from shared.plugin_catalog import CATALOG_KEY, Catalog, PluginInfo, ack_key


@dataclass(frozen=True, slots=True)
class Applied:
    """What the live workers said after a change: the tools they offer, who did not answer."""

    tools: list[str]
    unconfirmed: list[str]


async def catalog(ctx: AppContext) -> list[PluginInfo] | None:
    raw = await ctx.redis.get(CATALOG_KEY)
    return Catalog.model_validate_json(raw).plugins if raw else None


async def list_plugins(ctx: AppContext, conn: Conn) -> dict[str, Any]:
    plugins = await catalog(ctx) or []
    states = await repo.enabled_states(conn)  # the source of truth, newer than any report
    shown = []
    for plugin in plugins:
        enabled = states.get(plugin.name, plugin.enabled)
        shown.append(
            {
                **plugin.model_dump(),
                "enabled": enabled,
                "loaded": enabled and plugin.error is None,
            }
        )
    return {"plugins": shown, "total_loaded": sum(1 for p in shown if p["loaded"])}


async def set_enabled(ctx: AppContext, conn: Conn, name: str, enabled: bool) -> Applied:
    known = await catalog(ctx)
    if known is None:
        raise ServiceUnavailable("No worker has reported its plugins yet; try again shortly.")
    if not any(p.name == name for p in known):
        names = ", ".join(sorted(p.name for p in known))
        raise NotFound(f"No plugin named '{name}'. Known plugins: {names}.")
    await repo.set_enabled(conn, name, enabled)
    return await broadcast(ctx, reload=False)


async def broadcast(ctx: AppContext, *, reload: bool) -> Applied:
    """Tell every worker, and wait (bounded) until each live one has applied the change."""
    request_id = uuid.uuid4().hex
    acks, unconfirmed = await publish_and_wait(
        ctx,
        PluginsChanged(request_id=request_id, reload=reload),
        request_id,
        ctx.settings.aion_plugin_ack_timeout_seconds,
    )
    tools = sorted({tool for tools in acks.values() for tool in orjson.loads(tools)})
    return Applied(tools, unconfirmed)


async def publish_and_wait(
    ctx: AppContext, message: ControlMessage, request_id: str, wait_seconds: float
) -> tuple[dict[str, bytes], list[str]]:
    """Publish a control message that workers acknowledge under `request_id`; wait (bounded)
    for every live worker. The acknowledgements by worker id, and who did not answer."""
    waiting = await ctx.bus.live_worker_ids()
    await ctx.redis.publish(CONTROL_CHANNEL, encode_control(message))
    acks: dict[bytes, bytes] = {}
    try:
        async with asyncio.timeout(wait_seconds):
            while True:
                acks = await ctx.redis.hgetall(ack_key(request_id))
                answered = {worker.decode() for worker in acks}
                waiting -= answered
                if not waiting or not (waiting & await ctx.bus.live_worker_ids()):
                    break  # everyone answered, or those who did not have died meanwhile
                await asyncio.sleep(0.02)
    except TimeoutError:
        pass
    return {worker.decode(): ack for worker, ack in acks.items()}, sorted(waiting)
