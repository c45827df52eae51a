"""Listens to the control channel and the job wake-up channel for this worker process."""

from __future__ import annotations

import asyncio
import logging

import pydantic
import redis.exceptions

from services.worker import claude_cli_status, mcp_sync, plugin_sync
from services.worker.acks import acknowledge
from services.worker.context import WorkerContext
from shared.control import (
    CONTROL_CHANNEL,
    CancelTurn,
    McpChanged,
    PluginsChanged,
    SecretsChanged,
    SettingsChanged,
    decode_control,
)
from shared.jobs import JOBS_WAKE_CHANNEL

log = logging.getLogger("aion.worker.control")


async def listen(app: WorkerContext) -> None:
    """Run until cancelled; reconnects by itself when Redis goes away."""
    while True:
        pubsub = app.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CONTROL_CHANNEL, JOBS_WAKE_CHANNEL)
            # Changes may have been broadcast while we were away.
            app.owner_config.invalidate()
            app.spawn(plugin_sync.apply(app, PluginsChanged()))
            app.spawn(mcp_sync.apply(app, McpChanged()))
            app.secrets.invalidate()
            # After subscribing, so its subprocess never delays the first control message.
            app.spawn(claude_cli_status.publish(app))
            while True:
                message = await pubsub.get_message(timeout=5.0)
                if message is None:
                    continue
                if message["channel"] == JOBS_WAKE_CHANNEL.encode():
                    app.wake.set()
                else:
                    _handle_control(app, message["data"])
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("control channel lost (%s); reconnecting", exc)
            app.wake.set()  # poll once: a wake-up may have been missed
            await asyncio.sleep(1.0)
        finally:
            await pubsub.aclose()


def _handle_control(app: WorkerContext, data: bytes) -> None:
    try:
        message = decode_control(data)
    except pydantic.ValidationError:
        log.warning("ignoring an unknown control message")
        return
    if isinstance(message, CancelTurn):
        app.cancel_turn(message.turn_id)
    elif isinstance(message, SettingsChanged):
        app.owner_config.invalidate()  # the next turn reads them again
        app.spawn(acknowledge(app, message.request_id))
    elif isinstance(message, PluginsChanged):
        app.spawn(plugin_sync.apply(app, message))
    elif isinstance(message, McpChanged):
        app.spawn(mcp_sync.apply(app, message))
    elif isinstance(message, SecretsChanged):
        app.secrets.invalidate()  # the router builds new clients from the next call on
        app.spawn(acknowledge(app, message.request_id))
        app.spawn(claude_cli_status.publish(app))  # a CLAUDE_CODE_OAUTH_TOKEN may have come


async def heartbeat(app: WorkerContext) -> None:
    """Keep this worker's lease and those of the turns it holds alive; a turn counts as lost
    once its lease lapses."""
    lease = app.settings.aion_worker_lease_seconds
    while True:
        try:
            await app.bus.heartbeat(app.worker_id, lease, list(app.held))
        except redis.exceptions.RedisError as exc:
            log.warning("heartbeat failed: %s", exc)
        await asyncio.sleep(lease / 4)
