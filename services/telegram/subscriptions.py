"""Listening to one Redis pub/sub channel for the life of the service, through reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

log = logging.getLogger("aion.telegram.subscriptions")


async def subscribe_forever(
    redis: Redis,
    channel: str,
    on_message: Callable[[bytes], Awaitable[None]],
    on_subscribed: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Call `on_message` with each message's data; after every (re)subscription, first
    `on_subscribed` (to catch up with what may have been missed while disconnected)."""
    while True:
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(channel)
            if on_subscribed is not None:
                await on_subscribed()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    await on_message(message["data"])
                except Exception:  # one bad message must not end the subscription
                    log.exception("handling a message of %s failed", channel)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("lost %s (%s); reconnecting", channel, exc)
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
