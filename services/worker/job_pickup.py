"""Taking jobs from arq's queue in one Redis round trip per poll, not four per job.

arq's `Worker.start_jobs` checks and marks each queued job with WATCH, EXISTS, ZSCORE and
MULTI/EXEC, one job after the other, and every poll walks every queued id again, those this
worker already runs included (arq drops a job from the queue only when it ends). Each enqueue
wakes the workers (runner.py), so a burst of 200 turns made every worker walk up to 200 ids
with three or four round trips each, once per wake: that, not the turns' own work, was what
held back the last turns' first tokens. The script below does arq's checks for a whole batch
at once, inside Redis (so still atomically per job against other workers): a job is taken
when it is due, still queued and not in progress anywhere, by marking it in progress as arq
does. What arq does once a job is taken (`run_job`) is unchanged.
"""

from __future__ import annotations

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

# KEYS: the queue. ARGV: now ms, in-progress ttl ms, in-progress key prefix, job ids...
# Returns the taken ids, each followed by its score. (Keys built in the script, as arq's own
# are: arq's queue and job keys share no hash slot anyway.)
TAKE = """
local now = tonumber(ARGV[1])
local taken = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= now and redis.call('EXISTS', ARGV[3] .. id) == 0 then
    redis.call('PSETEX', ARGV[3] .. id, ARGV[2], '1')
    taken[#taken + 1] = id
    taken[#taken + 1] = score
  end
end
return taken
"""


class JobTaker:
    """Marks a batch of queued jobs in progress for this worker, atomically per job."""

    def __init__(self, redis: Redis, queue: str, in_progress_ms: int) -> None:
        self._script = redis.register_script(TAKE)
        self._queue = queue
        self._ttl_ms = in_progress_ms

    async def take(self, job_ids: list[str], now_ms: int) -> list[tuple[str, int]]:
        """The jobs of `job_ids` now this worker's, with their queue scores, in order."""
        if not job_ids:
            return []
        raw = await self._script(
            keys=[self._queue], args=[now_ms, self._ttl_ms, in_progress_key_prefix, *job_ids]
        )
        pairs = zip(raw[::2], raw[1::2], strict=True)
        return [(_text(job_id), int(float(_text(score)))) for job_id, score in pairs]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
