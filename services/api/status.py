"""The public status summary: what runs and whether its dependencies answer. No secrets."""

from __future__ import annotations

import asyncio
import time

from services.api.context import AppContext
from services.api.schemas.status import ServicesHealth, StatusResponse
from shared import __version__
from shared.db import settings as settings_repo
from shared.db import stats


async def _postgres(ctx: AppContext, *, count: bool = True) -> tuple[str, str | None, int]:
    try:
        async with asyncio.timeout(2.0), ctx.pool.connection() as conn:
            model = await settings_repo.active_model(conn)
            # A public route: the count(*) over every memory runs once per few seconds at most.
            memories = 0
            if count:
                memories = await ctx.memory_count.get(lambda: stats.memory_entries(conn))
            return "ok", model, memories
    except Exception:  # any failure means "down" here; the reason is for the logs, not the public
        return "down", None, 0


async def _redis(ctx: AppContext) -> tuple[str, int]:
    try:
        async with asyncio.timeout(2.0):
            await ctx.redis.ping()
            return "ok", await ctx.bus.live_workers()
    except Exception:
        return "down", 0


async def status(ctx: AppContext) -> StatusResponse:
    (pg, model, memories), (rd, workers) = await asyncio.gather(_postgres(ctx), _redis(ctx))
    return StatusResponse(
        status="ok" if pg == rd == "ok" else "degraded",
        version=__version__,
        model=model or ctx.settings.aion_model,
        uptime=round(time.monotonic() - ctx.started_at, 1),
        memory_entries=memories,
        services=ServicesHealth(postgres=pg, redis=rd, workers=workers),
    )
