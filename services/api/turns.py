"""Chat turns from the api's side: enqueue, relay the event log as SSE, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from functools import partial

from sse_starlette.event import ServerSentEvent

from services.api import files
from services.api.context import AppContext
from services.api.errors import NotFound, ServiceUnavailable
from services.api.event_hub import RESYNC
from services.api.schemas.chat import ChatRequest
from shared.control import CONTROL_CHANNEL, CancelTurn, encode_control
from shared.events import ErrorCode, ErrorEvent, encode
from shared.jobs import TurnJob
from shared.retry import RETRYABLE, RedisRetry, RedisUnavailable
from shared.turn_keys import StoredEvent, stream_id_key

log = logging.getLogger("aion.api.turns")


# What an image-only message says in the history and to the model beside its images (a blank
# text part is refused by some providers).
IMAGE_ONLY = "(image)"
FILES_ONLY = "(file)"


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
    if request.files:
        await files.check_attachable(ctx, request.files)
    job = TurnJob(
        turn_id=new_turn_id(),
        channel=request.channel,
        message=request.message if request.message.strip() else _placeholder(request),
        images=request.images,
        files=request.files,
        voice=request.voice,
        model=request.model,
        enqueued_at_ms=now_ms(),
    )
    return await enqueue_turn(ctx, job)


def _placeholder(request: ChatRequest) -> str:
    return IMAGE_ONLY if request.images else FILES_ONLY


async def enqueue_turn(ctx: AppContext, job: TurnJob) -> str:
    """Take the turn's place in its channel and queue its job, in one atomic step."""
    queued = await ctx.bus.submit(job)
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


async def stop_channel(ctx: AppContext, channel: str) -> str | None:
    """Cancel the channel's running turn (POST /api/stop, the old clients' Stop button); the
    turns queued behind it still run. Returns its id, or None when the channel is idle."""
    head = await ctx.bus.channel_head(channel)
    if head is None or await ctx.bus.has_ended(head):
        return None
    await cancel_turn(ctx, head)
    return head


def _as_sse(event: StoredEvent) -> ServerSentEvent:
    # An event of the relay's own is not in the log: it has no id, so a client that comes
    # back resumes after the last logged event it got.
    return ServerSentEvent(data=event.data, event=event.type, id=event.id or None)


def relay_lost_event(grace_seconds: float) -> StoredEvent:
    """What a relay says when it cannot read the turn's log any more (Redis gone too long)."""
    error = ErrorEvent(
        message=(
            f"Lost the connection to Redis for over {grace_seconds:g} s, so this stream ends "
            "here. The turn may still finish: follow it again with GET /api/chat/{job}/events "
            "and the last event id you got as Last-Event-ID."
        ),
        code=ErrorCode.INTERRUPTED,
    )
    return StoredEvent(id="", type=error.type, data=encode(error))


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
    When Redis goes away (a restart) the relay keeps trying and resumes after the last event it
    delivered; if Redis stays away past the grace period it ends with an `error` of its own.
    Every reader of a turn (SSE streams, Alexa) goes through here.
    """
    sub = await ctx.hub.subscribe(turn_id)
    idle = ctx.settings.aion_relay_idle_check_seconds
    retry = RedisRetry(ctx.settings.aion_relay_redis_grace_seconds)
    last_key = stream_id_key(last_event_id) if last_event_id else (0, -1)
    try:
        while True:
            try:
                logged, ended = await retry.run(
                    partial(ctx.bus.read_log, turn_id, last_event_id), "read a turn's log"
                )
                # Nothing after the given id of a turn that ended: the client had its terminal
                # event already (resumed after it), so nothing more will ever come.
                if not logged and ended:
                    return
            except RedisUnavailable:
                log.exception("relay gave up on Redis", extra={"turn_id": turn_id})
                yield relay_lost_event(ctx.settings.aion_relay_redis_grace_seconds)
                return
            for stored in logged:
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
                        with contextlib.suppress(*RETRYABLE):  # the re-read waits for Redis
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
