"""Live notices from the api's side: relay the notices log as SSE (`GET /api/events`).

A stream replays what was kept after the client's `Last-Event-ID` (`0-0`: everything kept;
none: only what comes next), then follows the log live through the event hub, re-reading it
when quiet or told to resynchronise, so a lost pub/sub message or a Redis restart loses
nothing. It never ends by itself: it ends when the client leaves, when this api drains, or when
Redis stays away past the grace period (the client then reconnects with its last id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from functools import partial

from sse_starlette.event import ServerSentEvent

from services.api.context import AppContext
from services.api.errors import AppError
from services.api.event_hub import RESYNC
from shared import notices
from shared.retry import RedisRetry, RedisUnavailable
from shared.turn_keys import StoredEvent, stream_id_key

log = logging.getLogger("aion.api.notices")

# A Last-Event-ID this far ahead of the clock cannot have come from this stream.
_FUTURE_SLACK_MS = 60_000


def check_last_event_id(value: str | None) -> None:
    """Refuse an id this stream never gave out (400 says what one looks like)."""
    if value is None:
        return
    if not notices.NOTICE_ID.match(value):
        raise AppError(
            "Last-Event-ID must be a notice id from this stream, like 1732872000000-0 "
            "(0-0 replays every notice kept)."
        )
    if stream_id_key(value)[0] > time.time() * 1000 + _FUTURE_SLACK_MS:
        raise AppError("Last-Event-ID is later than any notice: it is not from this stream.")


def _as_sse(stored: StoredEvent) -> ServerSentEvent:
    return ServerSentEvent(data=stored.data, event=stored.type, id=stored.id)


async def start_after(ctx: AppContext, last_event_id: str | None) -> str:
    """Where a stream starts: after the client's id, else after the newest notice. Settled
    before the response starts, so a notice published once the client has its 200 is sent."""
    if last_event_id is not None:
        return last_event_id
    rows = await ctx.redis.xrevrange(notices.NOTICES_KEY, count=1)
    return rows[0][0].decode() if rows else "0-0"


async def relay_notices(ctx: AppContext, after: str) -> AsyncIterator[ServerSentEvent]:
    """The notices after `after` as SSE, then live ones, while the client stays."""
    sub = await ctx.hub.subscribe_channel(notices.NOTICES_CHANNEL)
    idle = ctx.settings.aion_relay_idle_check_seconds
    retry = RedisRetry(ctx.settings.aion_relay_redis_grace_seconds)
    try:
        last_key = stream_id_key(after)
        while not ctx.drain.draining:
            logged = await retry.run(
                partial(notices.read_after, ctx.redis, after), "read the notices"
            )
            for stored in logged:
                yield _as_sse(stored)
                after, last_key = stored.id, stream_id_key(stored.id)
            while not ctx.drain.draining:
                try:
                    async with asyncio.timeout(idle):
                        item = await sub.queue.get()
                except TimeoutError:
                    break  # re-read the log: covers an announcement that never came
                if item is RESYNC:
                    break
                if stream_id_key(item.id) <= last_key:
                    continue
                yield _as_sse(item)
                after, last_key = item.id, stream_id_key(item.id)
    except RedisUnavailable:
        # The client reconnects (EventSource does by itself) and resumes with its last id.
        log.warning("notices stream gave up on Redis; the client resumes when it reconnects")
    finally:
        await ctx.hub.unsubscribe(sub)
