"""The Redis side of a chat turn: its event log, live announcements, channel queue and lease.

Every event of a turn is appended to a capped Redis Stream (with a TTL) and announced on the
turn's pub/sub channel in one atomic script, so a reader that subscribes first and then replays
the stream misses nothing. Once a terminal event (`done`/`error`) is written the log is sealed:
a late or zombie writer cannot add anything after it.

A worker holds each turn it claimed by a lease of the turn's own, renewed with its heartbeat:
a turn whose lease lapses (its worker died, or lost Redis for longer than it waits) is dealt
with by whoever notices, so it never blocks its channel for good. Every write is safe to repeat,
so the worker retries them across a Redis restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from functools import partial
from typing import Literal

import redis.exceptions
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job

from shared import turn_scripts
from shared.events import TERMINAL_TYPES, ErrorCode, ErrorEvent, Event, encode
from shared.jobs import JOBS_WAKE_CHANNEL, QUEUE_NAME, RUN_TURN, TurnJob
from shared.retry import NO_RETRY, RedisRetry
from shared.turn_keys import (
    WORKER_KEY_PREFIX,
    StoredEvent,
    cancel_key,
    channel_queue_key,
    end_key,
    events_key,
    lease_key,
    live_channel,
    meta_key,
    worker_key,
)

# What a worker's key holds: this release's workers lease each turn they hold on its own key.
# A worker of the release before wrote "1" and leased no turn: its key stands for its turns.
WORKER_MARK = "turn-leases"

MAX_REQUEUES = 3

SlotOutcome = Literal["start", "cancelled", "ended"]


class TurnBus:
    """Reads and writes turn state in Redis; shared by the api (reader) and the worker (writer).

    `retry`: how long the writer's steps (append, release, claim and wait) ride out a Redis
    outage before giving up with `RedisUnavailable`; each of them is safe to repeat.
    """

    def __init__(
        self,
        redis: ArqRedis,
        *,
        ttl_seconds: int,
        maxlen: int,
        lease_seconds: float,
        retry: RedisRetry = NO_RETRY,
    ) -> None:
        self.redis = redis
        self.ttl_ms = ttl_seconds * 1000
        self.maxlen = maxlen
        self.lease_ms = int(lease_seconds * 1000)
        self.retry = retry
        self._append = redis.register_script(turn_scripts.APPEND)
        self._claim = redis.register_script(turn_scripts.CLAIM)
        self._start = redis.register_script(turn_scripts.START)
        self._requeue = redis.register_script(turn_scripts.REQUEUE)
        self._submit = redis.register_script(turn_scripts.SUBMIT)

    # -- the event log ---------------------------------------------------------------------
    async def append(self, turn_id: str, channel: str, event: Event, *, seq: int = 0) -> str | None:
        """Append and announce one event; None when the turn already ended.

        `seq`: the writer's own count of the events it sent (1, 2, ...), so that a retry of an
        append whose reply was lost to a Redis restart does not store the event twice.
        """
        return (await self.append_many(turn_id, channel, [(event, seq)]))[0]

    async def append_many(
        self, turn_id: str, channel: str, events: list[tuple[Event, int]]
    ) -> list[str | None]:
        """Append and announce several events (each with its `seq`, as for `append`) in order,
        in one round trip; per event its stored id, None once the turn had ended."""
        return await self.retry.run(
            lambda: self._append_once(turn_id, channel, events), "append turn events"
        )

    async def _append_once(
        self, turn_id: str, channel: str, events: list[tuple[Event, int]]
    ) -> list[str | None]:
        args: list[str | int] = [self.maxlen, self.ttl_ms, turn_id]
        for event, seq in events:
            event_type: str = getattr(event, "type")  # noqa: B009 - every event model has one
            terminal = "1" if event_type in TERMINAL_TYPES else "0"
            args += [event_type, encode(event), seq, terminal]
        replies = await self._append(
            keys=[
                events_key(turn_id),
                end_key(turn_id),
                live_channel(turn_id),
                meta_key(turn_id),
                channel_queue_key(channel),
                lease_key(turn_id),
            ],
            args=args,
        )
        return [
            None if reply is None else reply.decode() if isinstance(reply, bytes) else str(reply)
            for reply in replies
        ]

    async def read_after(self, turn_id: str, after_id: str | None) -> list[StoredEvent]:
        """Every stored event after `after_id` (exclusive), or all of them."""
        return (await self.read_log(turn_id, after_id))[0]

    async def read_log(self, turn_id: str, after_id: str | None) -> tuple[list[StoredEvent], bool]:
        """The events after `after_id` and whether the turn has ended, read as one snapshot.

        Read apart, a turn could run to its end between the two reads: an empty log followed
        by "ended" would look like a stream with nothing left to send.
        """
        start = f"({after_id}" if after_id else "-"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xrange(events_key(turn_id), min=start, max="+")
            pipe.exists(end_key(turn_id))
            rows, ended = await pipe.execute()
        events = [
            StoredEvent(event_id.decode(), fields[b"t"].decode(), fields[b"d"].decode())
            for event_id, fields in rows
        ]
        return events, bool(ended)

    async def has_ended(self, turn_id: str) -> bool:
        return bool(await self.redis.exists(end_key(turn_id)))

    # -- turn bookkeeping ------------------------------------------------------------------
    async def submit(self, job: TurnJob) -> bool:
        """Record a new turn (with its job, to re-queue it should its worker die before it
        started), take its place in the channel's arrival order, queue its job (id: the turn
        id) and wake the workers, in one atomic step; False, and nothing written, if arq holds
        that id already."""
        now_ms = int(time.time() * 1000)
        arq_job = serialize_job(
            RUN_TURN, (job.model_dump(),), {}, None, now_ms, serializer=self.redis.job_serializer
        )
        queued = await self._submit(
            keys=[
                meta_key(job.turn_id),
                channel_queue_key(job.channel),
                job_key_prefix + job.turn_id,
                result_key_prefix + job.turn_id,
                QUEUE_NAME,
                JOBS_WAKE_CHANNEL,
            ],
            args=[
                job.channel,
                now_ms,
                job.model_dump_json(),
                job.turn_id,
                self.ttl_ms,
                arq_job,
                self.redis.expires_extra_ms,
                now_ms,
            ],
        )
        return bool(queued)

    async def enqueue(self, job: TurnJob, job_id: str) -> bool:
        """Queue the turn's job in arq and wake the workers; False if that id is taken."""
        queued = await self.redis.enqueue_job(
            RUN_TURN, job.model_dump(), _job_id=job_id, _queue_name=QUEUE_NAME
        )
        await self.redis.publish(JOBS_WAKE_CHANNEL, b"1")
        return queued is not None

    async def exists(self, turn_id: str) -> bool:
        return bool(await self.redis.exists(meta_key(turn_id)))

    async def channel_head(self, channel: str) -> str | None:
        """The turn at the head of the channel's queue: running, or next to run."""
        head = await self.redis.lindex(channel_queue_key(channel), 0)
        return head.decode() if head is not None else None

    async def request_cancel(self, turn_id: str) -> None:
        await self.redis.set(cancel_key(turn_id), "1", px=self.ttl_ms)

    async def release_slot(self, turn_id: str, channel: str) -> None:
        """Free the turn's place in its channel (a turn that ends without a terminal event)."""

        async def release() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.lrem(channel_queue_key(channel), 1, turn_id)
                pipe.delete(lease_key(turn_id))
                await pipe.execute()

        await self.retry.run(release, "release a channel slot")

    # -- leases and the dead ---------------------------------------------------------------
    async def heartbeat(
        self, worker_id: str, lease_seconds: float, turns: Iterable[str] = ()
    ) -> None:
        """Renew this worker's lease and the leases of the turns it holds (claimed, whether
        they wait for their channel or run): a turn whose lease lapses counts as lost."""
        px = int(lease_seconds * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(worker_key(worker_id), WORKER_MARK, px=px)
            for turn_id in turns:
                pipe.set(lease_key(turn_id), worker_id, px=px)
            await pipe.execute()

    async def drop_worker(self, worker_id: str) -> None:
        await self.redis.delete(worker_key(worker_id))

    async def live_workers(self) -> int:
        return len(await self.live_worker_ids())

    async def live_worker_ids(self) -> set[str]:
        return {
            key.decode()[len(WORKER_KEY_PREFIX) :]
            async for key in self.redis.scan_iter(match=f"{WORKER_KEY_PREFIX}*", count=500)
        }

    async def is_orphaned(self, turn_id: str) -> bool:
        """True when no live worker owns the turn and none ever will."""
        return await self._orphaned_job(turn_id) is not None

    async def _orphaned_job(self, turn_id: str) -> str | None:
        """The id of the turn's job when that job is orphaned, else None. Reapers act on this
        id, so one that looked before another re-queued the turn cannot re-queue it again."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(meta_key(turn_id), ["worker", "job_id"])
            pipe.exists(end_key(turn_id))
            pipe.exists(lease_key(turn_id))
            (owner, raw_job_id), ended, leased = await pipe.execute()
        if ended or leased:
            return None
        job_id = raw_job_id.decode() if raw_job_id is not None else turn_id
        if owner is not None:
            # Claimed, and its lease lapsed: the worker died, or lives on without the turn
            # (it lost Redis for longer than a lease). A worker of the previous release
            # leases no turn: while its own key lives, so do its turns.
            mark = await self.redis.get(worker_key(owner.decode()))
            if mark is not None and mark != WORKER_MARK.encode():
                return None
            return job_id if await self._leases_judgeable() else None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
            job_exists, taken = await pipe.execute()
        if not job_exists:
            # arq no longer holds the job, and nobody claimed the turn
            return job_id if await self._leases_judgeable() else None
        if not taken:
            return None  # still waiting in arq's queue
        # Taken from the queue but not claimed: a live worker claims within milliseconds, so
        # one that has not after a whole lease died in between.
        now_ms = int(time.time() * 1000)
        await self.redis.hsetnx(meta_key(turn_id), "unclaimed_since", now_ms)
        since = await self.redis.hget(meta_key(turn_id), "unclaimed_since")
        return job_id if since is not None and now_ms - int(since) > self.lease_ms else None

    async def _leases_judgeable(self) -> bool:
        """False while Redis has been up for less than a lease: leases expire at a fixed time,
        so after a restart every lease may have lapsed during the outage, and live workers
        need a heartbeat's time to renew theirs before anyone counts their turns as lost."""
        try:
            info = await self.redis.info("server")
        except redis.exceptions.ResponseError:  # INFO not allowed (some managed services)
            return True
        return int(info.get("uptime_in_seconds", 0)) * 1000 >= self.lease_ms

    async def reap_if_orphaned(self, turn_id: str) -> bool:
        """Deal with a turn whose worker died: one that never started gets a new job (its
        place in the channel kept); one that did ends with `error`, and its channel is freed."""
        job_id = await self._orphaned_job(turn_id)
        if job_id is None:
            return False
        verdict = await self._requeue(
            keys=[meta_key(turn_id), end_key(turn_id)],
            args=[job_id, turn_id, MAX_REQUEUES],
        )
        if verdict[0] == b"handled":  # ended, or another reaper got there first
            return True
        if verdict[0] == b"requeued":
            await self.enqueue(TurnJob.model_validate_json(verdict[2]), verdict[1].decode())
            return True
        channel = await self.redis.hget(meta_key(turn_id), "channel")
        lost = ErrorEvent(
            message="The worker running this turn stopped; please send your message again.",
            code=ErrorCode.WORKER_LOST,
        )
        await self._append_once(
            turn_id, channel.decode() if channel is not None else "", [(lost, 0)]
        )
        return True

    async def hand_back(self, turn_id: str, job_id: str) -> bool:
        """Give a turn this worker took but has not started to a new job, its place in the
        channel kept (a draining worker does this, as a reaper does for a dead one's turns).
        False when it cannot be handed back (re-queued too often): then it runs here."""
        verdict = await self._requeue(
            keys=[meta_key(turn_id), end_key(turn_id)], args=[job_id, turn_id, MAX_REQUEUES]
        )
        if verdict[0] == b"requeued":
            await self.enqueue(TurnJob.model_validate_json(verdict[2]), verdict[1].decode())
            return True
        return bool(verdict[0] == b"handled")  # ended or superseded meanwhile: not ours either

    async def claim_and_wait(
        self,
        turn_id: str,
        channel: str,
        worker_id: str,
        job_id: str,
        *,
        give_up: asyncio.Event | None = None,
        max_poll: float = 0.05,
    ) -> SlotOutcome:
        """Own the turn (and its lease, which the worker's heartbeat renews from now on),
        then wait until every earlier turn on the channel has finished.

        "cancelled" if the owner cancelled it first, "ended" if it was already given up as lost
        or, once `give_up` is set while it still waits, handed to another worker. Dead
        predecessors are reaped here, so a killed worker never blocks a channel for longer
        than its lease. Every step rides out a Redis outage within the bus's retry budget.
        """
        queue = channel_queue_key(channel)
        head, cancelled, ended = await self.retry.run(
            lambda: self._claim(
                keys=[
                    meta_key(turn_id),
                    queue,
                    cancel_key(turn_id),
                    end_key(turn_id),
                    lease_key(turn_id),
                ],
                args=[worker_id, job_id, turn_id, self.lease_ms],
            ),
            "claim a turn",
        )
        if ended:
            return "ended"
        first_check = True  # the claim script marked it started if it was at the head
        delay = 0.002
        while True:
            if cancelled:
                return "cancelled"
            if head is not None and head.decode() == turn_id and first_check:
                return "start"
            if head is None or head.decode() == turn_id:
                started = await self.retry.run(
                    lambda: self._start(
                        keys=[meta_key(turn_id), end_key(turn_id), queue],
                        args=[job_id, worker_id, turn_id, self.ttl_ms],
                    ),
                    "start a turn",
                )
                return "start" if started else "ended"
            if (
                give_up is not None
                and give_up.is_set()
                and await self.retry.run(partial(self.hand_back, turn_id, job_id), "hand back")
            ):
                return "ended"
            first_check = False
            await self.retry.run(partial(self._clear_ended, queue, head), "reap the turn ahead")
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_poll)
            head, cancelled = await self.retry.run(
                lambda: self._peek(queue, turn_id), "wait for the channel"
            )

    async def _clear_ended(self, queue: str, head: bytes) -> None:
        """Reap the turn at the head of the queue if its worker is gone; drop it from the
        queue if it ended but its worker has not released the slot yet (or never will)."""
        if not await self.reap_if_orphaned(head.decode()) and await self.has_ended(head.decode()):
            await self.redis.lrem(queue, 1, head)

    async def _peek(self, queue: str, turn_id: str) -> tuple[bytes | None, int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lindex(queue, 0)
            pipe.exists(cancel_key(turn_id))
            head, cancelled = await pipe.execute()
        return head, cancelled
