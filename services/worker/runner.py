"""The arq worker, woken by a pub/sub nudge instead of polling Redis in a tight loop."""

from __future__ import annotations

import asyncio
import logging
from signal import Signals
from typing import Any

import redis.exceptions
from arq import cron, func
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker

from services.worker import updates
from services.worker.audio_retention import cleanup_audio
from services.worker.context import new_worker_id
from services.worker.documents.extract_job import extract_file
from services.worker.job_claim import JobClaimer
from services.worker.knowledge.indexer import index_file
from services.worker.lifecycle import on_shutdown, on_startup
from services.worker.memory.batching import extraction_cron
from services.worker.reminders import reminder_cron
from services.worker.settings import WorkerSettings
from services.worker.turn import run_turn
from shared.jobs import (
    EXTRACT_FILE,
    INDEX_FILE,
    QUEUE_NAME,
    RUN_TURN,
    deserialize_job,
    serialize_job,
)

log = logging.getLogger("aion.worker")

CLEANUP_AUDIO = "cron:cleanup_audio"


class AionWorker(Worker):
    """arq's Worker with an event-driven wait between polls.

    arq sleeps `poll_delay` between queue polls: short delays burn CPU while idle, long ones add
    latency to every turn. Here the api publishes a wake-up after each enqueue (and a finishing
    turn sets it too), so a worker polls at once when there is work and rarely otherwise.
    """

    def __init__(
        self,
        *args: Any,
        wake: asyncio.Event,
        draining: asyncio.Event,
        idle_poll: float,
        **kwargs: Any,
    ) -> None:
        self._draining = draining
        super().__init__(*args, poll_delay=0, **kwargs)
        self._wake = wake
        self._idle_poll = idle_poll
        self._claimer: JobClaimer | None = None

    def handle_sig_wait_for_completion(self, signum: Signals) -> None:
        """SIGTERM with a drain period: arq stops picking jobs and waits for the running ones;
        `draining` also makes turns still waiting for their channel go to other workers.
        A second signal stops at once."""
        if self._draining.is_set():
            self.handle_sig(signum)
            return
        self._draining.set()
        super().handle_sig_wait_for_completion(signum)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's start of the polled jobs, with every free slot's job taken in one Redis call
        (`JobClaimer`) instead of four round trips per job. Slots are arq's: its semaphore and
        job counter, waited for when every slot is busy; jobs past the last free slot stay
        queued for the next poll, as in arq."""
        waiting = [job_id.decode() for job_id in job_ids]
        while waiting:
            batch = await self._take_slots(waiting)
            if not batch:
                return
            now, expiry = timestamp_ms(), int(self.in_progress_timeout_s * 1000)
            try:
                scores = await self._job_claimer().claim(batch, now, expiry)
            except BaseException:  # Redis went away: the batch's slots must not stay taken
                for _ in batch:
                    self._release_sem_dec_counter_on_complete()
                raise
            for job_id, score in zip(batch, scores, strict=True):
                if score is None:  # running elsewhere, done, or not due yet
                    self._release_sem_dec_counter_on_complete()
                    continue
                task = self.loop.create_task(self.run_job(job_id, score))
                task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
                self.tasks[job_id] = task
            if self.job_counter >= self.max_jobs:
                return

    def _job_claimer(self) -> JobClaimer:
        if self._claimer is None:  # arq opens its Redis pool in `main`
            self._claimer = JobClaimer(self.pool, self.queue_name, in_progress_key_prefix)
        return self._claimer

    async def _take_slots(self, waiting: list[str]) -> list[str]:
        """Jobs from the front of `waiting` for which a slot was taken: the first waits for a
        slot, the others only take free ones."""
        batch: list[str] = []
        while waiting and not (batch and self.sem.locked()):
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                waiting.clear()
                break
            self.job_counter += 1
            batch.append(waiting.pop(0))
        return batch

    async def _poll_iteration(self) -> None:
        self._wake.clear()
        try:
            await super()._poll_iteration()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            # Redis restarting must not end the worker: keep polling until it is back.
            log.warning("queue poll failed (%s); retrying", exc)
            await asyncio.sleep(1.0)
            return
        if self.burst:
            return
        try:
            async with asyncio.timeout(self._idle_poll):
                await self._wake.wait()
        except TimeoutError:
            pass


def build_worker(settings: WorkerSettings, *, burst: bool = False) -> AionWorker:
    wake, draining = asyncio.Event(), asyncio.Event()
    return AionWorker(
        functions=[
            func(  # type: ignore[arg-type]
                run_turn,
                name=RUN_TURN,
                max_tries=1,  # a turn whose worker died is reported lost, never re-run
                timeout=settings.aion_turn_timeout_seconds,
            ),
            func(  # type: ignore[arg-type]
                extract_file,
                name=EXTRACT_FILE,
                max_tries=1,  # a file that killed its reader is not read again
                # Room to wait for one of the worker's extraction slots, then read.
                timeout=settings.aion_file_extract_seconds * 4 + 30,
            ),
            # Safe to run again (the chunks are replaced whole): a worker lost mid-way is retried.
            func(index_file, name=INDEX_FILE, max_tries=2, timeout=3600),  # type: ignore[arg-type]
            updates.check_function(),
        ],
        cron_jobs=[
            # Every 15 minutes, on one worker (arq gives each run one job id); the count of
            # removed files stays readable as the job's result for an hour.
            cron(  # type: ignore[arg-type]
                cleanup_audio,
                name=CLEANUP_AUDIO,
                minute={0, 15, 30, 45},
                timeout=300,
                keep_result=3600,
            ),
            updates.daily_cron(),
            reminder_cron(settings),
            extraction_cron(settings),
        ],
        queue_name=QUEUE_NAME,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        ctx={
            "settings": settings,
            "worker_id": new_worker_id(),
            "wake": wake,
            "draining": draining,
        },
        max_jobs=settings.aion_worker_max_jobs,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        keep_result=60,
        burst=burst,
        handle_signals=True,
        # SIGTERM: finish the running turns for up to this long (0: cancel them at once).
        job_completion_wait=settings.aion_worker_drain_seconds,
        wake=wake,
        draining=draining,
        idle_poll=settings.aion_worker_idle_poll_seconds,
    )
