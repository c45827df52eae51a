"""Plugins from the api's side: the catalog workers report, and changes every worker applies
before the call returns."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from services.api.broadcast import announce
from services.api.context import AppContext
from services.api.errors import NotFound, ServiceUnavailable
from services.api.schemas.plugins import PluginsResponse, PluginTool, PluginView
from shared.control import PluginsChanged
from shared.db import Conn
from shared.db import plugins as repo
from shared.plugin_catalog import CATALOG_KEY, Catalog, PluginInfo


@dataclass(frozen=True, slots=True)
class Applied:
    """What the live workers said after a change: the tools they offer, who did not answer."""

    tools: list[str]
    unconfirmed: list[str]


async def catalog(ctx: AppContext) -> list[PluginInfo] | None:
    raw = await ctx.redis.get(CATALOG_KEY)
    return Catalog.model_validate_json(raw).plugins if raw else None


def _view(plugin: PluginInfo, enabled: bool) -> PluginView:
    loaded = enabled and plugin.error is None
    return PluginView(
        **plugin.model_dump(exclude={"enabled", "loaded", "tools"}),
        enabled=enabled,
        loaded=loaded,
        tools=[PluginTool(**tool.model_dump(), loaded=loaded) for tool in plugin.tools],
    )


async def list_plugins(ctx: AppContext, conn: Conn) -> PluginsResponse:
    plugins = await catalog(ctx) or []
    states = await repo.enabled_states(conn)  # the source of truth, newer than any report
    return PluginsResponse(
        plugins=[_view(plugin, states.get(plugin.name, plugin.enabled)) for plugin in plugins]
    )


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
    acks = await announce(ctx, PluginsChanged(reload=reload))
    tools = sorted({tool for report in acks.reports.values() for tool in orjson.loads(report)})
    return Applied(tools, acks.unconfirmed)
