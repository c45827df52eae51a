"""The Redis side of a chat turn: its event log, live announcements, channel queue and lease.

Every event of a turn is appended to a capped Redis Stream (with a TTL) and announced on the
turn's pub/sub channel in one atomic script, so a reader that subscribes first and then replays
the stream misses nothing. Once a terminal event (`done`/`error`) is written the log is sealed:
a late or zombie writer cannot add anything after it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix

from shared.events import TERMINAL_TYPES, ErrorCode, ErrorEvent, Event, encode
from shared.jobs import JOBS_WAKE_CHANNEL, QUEUE_NAME, RUN_TURN, TurnJob

# Redis hash tags ({...}) keep all keys of one turn in one cluster slot for the script.
_PREFIX = "aion:turn:"
WORKER_KEY_PREFIX = "aion:worker:"
CHANNEL_QUEUE_PREFIX = "aion:chanq:"

# A terminal event also frees the turn's place in its channel queue, in the same step.
_APPEND_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[5] == '1' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
  redis.call('LREM', KEYS[5], 1, ARGV[6])
end
redis.call('PUBLISH', KEYS[3], id .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3])
return id
"""

# Take ownership of a turn and see, in the same step, whether it may start (marked `started` when
# it may: from then on it has side effects and is never run twice). A turn that already ended, or
# whose job was superseded by a re-queued one, is not taken.
_CLAIM_LUA = """
if redis.call('EXISTS', KEYS[4]) == 1 then return {false, 0, 1} end
local current = redis.call('HGET', KEYS[1], 'job_id')
if current and current ~= ARGV[2] then return {false, 0, 1} end
redis.call('HSET', KEYS[1], 'worker', ARGV[1])
local head = redis.call('LINDEX', KEYS[2], 0)
if head == ARGV[3] then redis.call('HSET', KEYS[1], 'started', '1') end
return {head, redis.call('EXISTS', KEYS[3]), 0}
"""

# Hand a turn that never started to a new job, once, whoever notices first. Returns what to do:
# {'requeued', job_id, job}, {'lost'} (it had started, or was re-queued too often) or {'handled'}.
_REQUEUE_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {'handled'} end
if redis.call('HGET', KEYS[1], 'job_id') ~= ARGV[1] then return {'handled'} end
if redis.call('HEXISTS', KEYS[1], 'started') == 1 then return {'lost'} end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
if attempt > tonumber(ARGV[3]) then return {'lost'} end
local job_id = ARGV[2] .. '-' .. attempt
redis.call('HSET', KEYS[1], 'job_id', job_id)
redis.call('HDEL', KEYS[1], 'worker', 'unclaimed_since')
return {'requeued', job_id, redis.call('HGET', KEYS[1], 'job')}
"""
MAX_REQUEUES = 3

SlotOutcome = Literal["start", "cancelled", "ended"]


def events_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:events"


def end_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:end"


def meta_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:meta"


def cancel_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:cancel"


def live_channel(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:live"


def channel_queue_key(channel: str) -> str:
    return f"{CHANNEL_QUEUE_PREFIX}{channel}"


def worker_key(worker_id: str) -> str:
    return f"{WORKER_KEY_PREFIX}{worker_id}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as it sits in the log: its stream id, type and JSON payload."""

    id: str
    type: str
    data: str

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES


def parse_announcement(payload: bytes | str) -> StoredEvent:
    """Split a pub/sub announcement (`id\\ntype\\njson`) without parsing the JSON."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    event_id, event_type, data = text.split("\n", 2)
    return StoredEvent(event_id, event_type, data)


def stream_id_key(event_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class TurnBus:
    """Reads and writes turn state in Redis; shared by the api (reader) and the worker (writer)."""

    def __init__(
        self, redis: ArqRedis, *, ttl_seconds: int, maxlen: int, lease_seconds: float
    ) -> None:
        self.redis = redis
        self.ttl_ms = ttl_seconds * 1000
        self.maxlen = maxlen
        self.lease_ms = int(lease_seconds * 1000)
        self._append = redis.register_script(_APPEND_LUA)
        self._claim = redis.register_script(_CLAIM_LUA)
        self._requeue = redis.register_script(_REQUEUE_LUA)

    # -- the event log ---------------------------------------------------------------------
    async def append(self, turn_id: str, channel: str, event: Event) -> str | None:
        """Append and announce one event; None when the turn already ended."""
        event_type: str = getattr(event, "type")  # noqa: B009 - every event model has one
        result = await self._append(
            keys=[
                events_key(turn_id),
                end_key(turn_id),
                live_channel(turn_id),
                meta_key(turn_id),
                channel_queue_key(channel),
            ],
            args=[
                self.maxlen,
                event_type,
                encode(event),
                self.ttl_ms,
                "1" if event_type in TERMINAL_TYPES else "0",
                turn_id,
            ],
        )
        if result is None:
            return None
        return result.decode() if isinstance(result, bytes) else str(result)

    async def read_after(self, turn_id: str, after_id: str | None) -> list[StoredEvent]:
        """Every stored event after `after_id` (exclusive), or all of them."""
        start = f"({after_id}" if after_id else "-"
        rows = await self.redis.xrange(events_key(turn_id), min=start, max="+")
        return [
            StoredEvent(event_id.decode(), fields[b"t"].decode(), fields[b"d"].decode())
            for event_id, fields in rows
        ]

    async def has_ended(self, turn_id: str) -> bool:
        return bool(await self.redis.exists(end_key(turn_id)))

    # -- turn bookkeeping ------------------------------------------------------------------
    async def register(self, job: TurnJob) -> None:
        """Record a new turn (with its job, to re-queue it should its worker die before it
        started) and take its place in the channel's arrival order."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                meta_key(job.turn_id),
                mapping={
                    "channel": job.channel,
                    "created_ms": int(time.time() * 1000),
                    "job": job.model_dump_json(),
                    "job_id": job.turn_id,
                },
            )
            pipe.pexpire(meta_key(job.turn_id), self.ttl_ms)
            pipe.rpush(channel_queue_key(job.channel), job.turn_id)
            await pipe.execute()

    async def enqueue(self, job: TurnJob, job_id: str) -> bool:
        """Queue the turn's job in arq and wake the workers; False if that id is taken."""
        queued = await self.redis.enqueue_job(
            RUN_TURN, job.model_dump(), _job_id=job_id, _queue_name=QUEUE_NAME
        )
        await self.redis.publish(JOBS_WAKE_CHANNEL, b"1")
        return queued is not None

    async def exists(self, turn_id: str) -> bool:
        return bool(await self.redis.exists(meta_key(turn_id)))

    async def forget(self, turn_id: str, channel: str) -> None:
        """Undo `register` when the job could not be enqueued."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(meta_key(turn_id))
            pipe.lrem(channel_queue_key(channel), 1, turn_id)
            await pipe.execute()

    async def request_cancel(self, turn_id: str) -> None:
        await self.redis.set(cancel_key(turn_id), "1", px=self.ttl_ms)

    async def cancel_requested(self, turn_id: str) -> bool:
        return bool(await self.redis.exists(cancel_key(turn_id)))

    async def release_slot(self, turn_id: str, channel: str) -> None:
        await self.redis.lrem(channel_queue_key(channel), 1, turn_id)

    # -- leases and the dead ---------------------------------------------------------------
    async def heartbeat(self, worker_id: str, lease_seconds: float) -> None:
        await self.redis.set(worker_key(worker_id), "1", px=int(lease_seconds * 1000))

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
            (owner, raw_job_id), ended = await pipe.execute()
        if ended:
            return None
        job_id = raw_job_id.decode() if raw_job_id is not None else turn_id
        if owner is not None:
            alive = await self.redis.exists(worker_key(owner.decode()))
            return None if alive else job_id
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
            job_exists, taken = await pipe.execute()
        if not job_exists:
            return job_id  # arq no longer holds the job, and nobody claimed the turn
        if not taken:
            return None  # still waiting in arq's queue
        # Taken from the queue but not claimed: a live worker claims within milliseconds, so
        # one that has not after a whole lease died in between.
        now_ms = int(time.time() * 1000)
        await self.redis.hsetnx(meta_key(turn_id), "unclaimed_since", now_ms)
        since = await self.redis.hget(meta_key(turn_id), "unclaimed_since")
        return job_id if since is not None and now_ms - int(since) > self.lease_ms else None

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
        await self.append(
            turn_id,
            channel.decode() if channel is not None else "",
            ErrorEvent(
                message="The worker running this turn stopped; please send your message again.",
                code=ErrorCode.WORKER_LOST,
            ),
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
        """Own the turn (its lease is now this worker's heartbeat), then wait until every
        earlier turn on the channel has finished.

        "cancelled" if the owner cancelled it first, "ended" if it was already given up as lost
        or, once `give_up` is set while it still waits, handed to another worker. Dead
        predecessors are reaped here, so a killed worker never blocks a channel for longer
        than its lease.
        """
        delay = 0.002
        queue = channel_queue_key(channel)
        head, cancelled, ended = await self._claim(
            keys=[meta_key(turn_id), queue, cancel_key(turn_id), end_key(turn_id)],
            args=[worker_id, job_id, turn_id],
        )
        if ended:
            return "ended"
        first_check = True  # the claim script marked it started if it was at the head
        while True:
            if cancelled:
                return "cancelled"
            if head is None or head.decode() == turn_id:
                if head is None:
                    # Our place was lost (Redis restarted): nothing is ahead of us any more.
                    await self.redis.rpush(queue, turn_id)
                if head is None or not first_check:
                    await self.redis.hset(meta_key(turn_id), "started", "1")
                return "start"
            if give_up is not None and give_up.is_set() and await self.hand_back(turn_id, job_id):
                return "ended"
            first_check = False
            if not await self.reap_if_orphaned(head.decode()) and await self.has_ended(
                head.decode()
            ):
                # Ended but its worker has not released the slot yet (or never will).
                await self.redis.lrem(queue, 1, head)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_poll)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.lindex(queue, 0)
                pipe.exists(cancel_key(turn_id))
                head, cancelled = await pipe.execute()
