"""Chat turns from the api's side: enqueue, relay the event log as SSE, cancel."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from sse_starlette.event import ServerSentEvent

from services.api.context import AppContext
from services.api.errors import NotFound, ServiceUnavailable
from services.api.event_hub import RESYNC
from services.api.schemas import ChatRequest
from shared.control import CONTROL_CHANNEL, CancelTurn, encode_control
from shared.jobs import TurnJob
from shared.turn_bus import StoredEvent, stream_id_key

log = logging.getLogger("aion.api.turns")


def new_turn_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


async def start_turn(ctx: AppContext, request: ChatRequest) -> str:
    """Queue a turn on its channel and return its id (also the arq job id)."""
    if ctx.drain.draining:
        raise ServiceUnavailable(
            "This api replica is shutting down; send the message again to reach another one."
        )
    job = TurnJob(
        turn_id=new_turn_id(),
        channel=request.channel,
        message=request.message,
        images=request.images,
        voice=request.voice,
        model=request.model,
        enqueued_at_ms=now_ms(),
    )
    return await enqueue_turn(ctx, job)


async def enqueue_turn(ctx: AppContext, job: TurnJob) -> str:
    """Take the turn's place in its channel and queue its job; undone if queueing fails."""
    await ctx.bus.register(job)
    try:
        queued = await ctx.bus.enqueue(job, job.turn_id)
    except BaseException:
        await ctx.bus.forget(job.turn_id, job.channel)
        raise
    if not queued:  # only possible on an id collision
        raise ServiceUnavailable("Could not queue the turn; try again.")
    log.info("turn queued", extra={"turn_id": job.turn_id, "channel": job.channel})
    return job.turn_id


async def ensure_turn_exists(ctx: AppContext, turn_id: str) -> None:
    if not await ctx.bus.exists(turn_id):
        raise NotFound(f"No chat turn '{turn_id}' (unknown, or its events expired).")


async def cancel_turn(ctx: AppContext, turn_id: str) -> None:
    """Ask whichever worker holds the turn to stop; a queued turn stops before it starts."""
    await ensure_turn_exists(ctx, turn_id)
    await ctx.bus.request_cancel(turn_id)
    await ctx.redis.publish(CONTROL_CHANNEL, encode_control(CancelTurn(turn_id=turn_id)))


def _as_sse(event: StoredEvent) -> ServerSentEvent:
    return ServerSentEvent(data=event.data, event=event.type, id=event.id)


async def relay_events(
    ctx: AppContext, turn_id: str, last_event_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    """The turn's events as SSE, from after `last_event_id` until it ends."""
    async with aclosing(follow_turn(ctx, turn_id, last_event_id)) as events:
        async for stored in events:
            yield _as_sse(stored)


async def follow_turn(
    ctx: AppContext, turn_id: str, last_event_id: str | None
) -> AsyncGenerator[StoredEvent, None]:
    """Replay the turn's log after `last_event_id`, then follow it live until it ends.

    Subscribing before replaying means nothing falls between the two; ids dedupe the overlap.
    When the stream is quiet the log is re-read (covering lost pub/sub messages) and the
    worker's lease checked, so a dead worker turns into an `error` event within seconds.
    Every reader of a turn (SSE streams, Alexa) goes through here.
    """
    sub = await ctx.hub.subscribe(turn_id)
    idle = ctx.settings.aion_relay_idle_check_seconds
    last_key = stream_id_key(last_event_id) if last_event_id else (0, -1)
    try:
        while True:
            for stored in await ctx.bus.read_after(turn_id, last_event_id):
                yield stored
                last_event_id, last_key = stored.id, stream_id_key(stored.id)
                if stored.terminal:
                    return
            while True:
                try:
                    item = sub.queue.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        async with asyncio.timeout(idle):
                            item = await sub.queue.get()
                    except TimeoutError:
                        await ctx.bus.reap_if_orphaned(turn_id)
                        break  # re-read the log
                if item is RESYNC:
                    break
                if stream_id_key(item.id) <= last_key:
                    continue
                yield item
                last_event_id, last_key = item.id, stream_id_key(item.id)
                if item.terminal:
                    return
    finally:
        await ctx.hub.unsubscribe(sub)
