"""Taking queued jobs for this worker: arq's check-and-set, one Redis call per batch.

arq takes each job with four round trips (WATCH its in-progress key, EXISTS, ZSCORE, then
MULTI/PSETEX/EXEC), one job after the other: with 200 turns arriving at once the last one waits
for 800 round trips before it starts. The same check (queued, due, not running elsewhere) and
the same mark (the in-progress key, with arq's expiry) are one script here, for every job of a
poll at once; Redis runs it atomically, so two workers never take the same job.
"""

from __future__ import annotations

from redis.asyncio import Redis

# KEYS: the queue, then one in-progress key per job. ARGV: now (ms), in-progress expiry (ms),
# then the job ids, in the order of their keys. Per job: its score if taken, else false.
CLAIM_JOBS = """
local now = tonumber(ARGV[1])
local taken = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= now and redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('PSETEX', KEYS[i], ARGV[2], '1')
    taken[i - 1] = score
  else
    taken[i - 1] = false
  end
end
return taken
"""


class JobClaimer:
    """Marks queued jobs as in progress for this worker, many per round trip."""

    def __init__(self, redis: Redis, queue: str, in_progress_prefix: str) -> None:
        self._script = redis.register_script(CLAIM_JOBS)
        self._queue = queue
        self._prefix = in_progress_prefix

    async def claim(self, job_ids: list[str], now_ms: int, in_progress_ms: int) -> list[int | None]:
        """Each job's queue score if this worker took it; None if it is not queued, not due
        yet, or running elsewhere."""
        if not job_ids:
            return []
        keys = [self._queue, *(self._prefix + job_id for job_id in job_ids)]
        replies = await self._script(keys=keys, args=[now_ms, in_progress_ms, *job_ids])
        return [None if reply is None else int(float(reply)) for reply in replies]
