"""The api's Prometheus side: a request counter middleware and the `/metrics` exposition."""

from __future__ import annotations

import asyncio
import logging

import redis.exceptions
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.context import AppContext
from shared import metrics
from shared.jobs import QUEUE_NAME

log = logging.getLogger("aion.api.metrics")


class RequestMetrics:
    """Counts every HTTP response by route template (never the raw path: ids would explode
    the label set), method and status. Unrouted paths count as `unmatched`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                metrics.http_request(template, scope["method"], message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


async def exposition(ctx: AppContext) -> tuple[bytes, str]:
    """Refresh the gauges read from shared state, then render everything."""
    metrics.SSE_STREAMS_OPEN.set(ctx.hub.open_streams)
    try:
        async with asyncio.timeout(2.0):
            metrics.QUEUE_DEPTH.set(await ctx.redis.zcard(QUEUE_NAME))
            metrics.WORKERS_LIVE.set(await ctx.bus.live_workers())
    except (redis.exceptions.RedisError, TimeoutError) as exc:
        # Still answer: the scrape shows the last known values, the log says why.
        log.warning("metrics: Redis unavailable (%s); queue gauges not refreshed", exc)
    return metrics.render()
