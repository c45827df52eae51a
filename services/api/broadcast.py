"""Changes every worker must apply before the api answers: published on the control channel
with a request id, then waited for (bounded) until each live worker has acknowledged it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from services.api.context import AppContext
from shared.control import (
    CONTROL_CHANNEL,
    McpChanged,
    PluginsChanged,
    SecretsChanged,
    SettingsChanged,
    ack_key,
    encode_control,
)

Acknowledged = PluginsChanged | McpChanged | SettingsChanged | SecretsChanged


@dataclass(frozen=True, slots=True)
class Acks:
    reports: dict[str, bytes]  # worker id → what it reported with its acknowledgement
    unconfirmed: list[str]  # live workers that did not answer within the time limit


async def announce(
    ctx: AppContext, message: Acknowledged, wait_seconds: float | None = None
) -> Acks:
    """Tell every worker, and wait until each live one has applied the change (or died, or
    `wait_seconds` passed: AION_PLUGIN_ACK_TIMEOUT_SECONDS unless given)."""
    request_id = uuid.uuid4().hex
    waiting = await ctx.bus.live_worker_ids()
    await ctx.redis.publish(
        CONTROL_CHANNEL, encode_control(message.model_copy(update={"request_id": request_id}))
    )
    reports: dict[str, bytes] = {}
    try:
        limit = (
            ctx.settings.aion_plugin_ack_timeout_seconds if wait_seconds is None else wait_seconds
        )
        async with asyncio.timeout(limit):
            while waiting:
                acks = await ctx.redis.hgetall(ack_key(request_id))
                reports = {worker.decode(): report for worker, report in acks.items()}
                waiting -= reports.keys()
                if not (waiting & await ctx.bus.live_worker_ids()):
                    break  # everyone answered, or those who did not have died meanwhile
                await asyncio.sleep(0.02)
    except TimeoutError:
        pass
    return Acks(reports, sorted(waiting))
