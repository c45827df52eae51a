"""The Lua scripts behind `shared.turn_bus`: each a step of a turn that must happen at once.

A client retries a script when Redis went away before the reply came back, so each is safe to
run twice: the second run finds the first one's work done and changes nothing (a repeated
REQUEUE answers 'handled', and the turn, left without a job, is re-queued by the next reaper).
"""

from __future__ import annotations

# KEYS: events, end, live, meta, channel queue, lease.
# ARGV: maxlen, ttl ms, turn id, then four per event: type, data, seq, terminal ('1'/'0').
# Appends the events in order, one round trip for several (the last words, usage and `done`
# of a turn go together); per event, its stored id, or false once the log is sealed.
# `seq` (the writer's count of its events, 0 for a writer that has none) makes a retry of an
# append that already landed return the stored id instead of writing the event twice. A terminal
# event seals the log and frees the turn's place in its channel queue, in the same step.
APPEND = """
local last = nil
local function last_stored()
  if last == nil then
    last = {0, false}
    local entry = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
    if entry then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 's' then last = {tonumber(fields[i + 1]) or 0, entry[1]} end
      end
    end
  end
  return last
end
local ids = {}
local added = false
for i = 4, #ARGV, 4 do
  local seq = tonumber(ARGV[i + 2])
  local id = false
  if seq > 0 and last_stored()[1] >= seq then
    id = last_stored()[2]
  elseif redis.call('EXISTS', KEYS[2]) == 0 then
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
      't', ARGV[i], 'd', ARGV[i + 1], 's', ARGV[i + 2])
    last = {seq, id}
    added = true
    if ARGV[i + 3] == '1' then
      redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
      redis.call('PEXPIRE', KEYS[4], ARGV[2])
      redis.call('LREM', KEYS[5], 1, ARGV[3])
      redis.call('DEL', KEYS[6])
    end
    redis.call('PUBLISH', KEYS[3], id .. '\\n' .. ARGV[i] .. '\\n' .. ARGV[i + 1])
  end
  ids[#ids + 1] = id
end
if added then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return ids
"""

# KEYS: meta, channel queue, arq job, arq result, arq queue, workers' wake channel.
# ARGV: channel, created ms, turn job json, turn id, ttl ms, arq job, arq expiry ms, score.
# A new turn in one step (one round trip for the api instead of five): recorded with its job
# (to re-queue it should its worker die before it started), its place taken in the channel's
# arrival order, its job queued as arq's `enqueue_job` would, and the workers woken. 0, and
# nothing written, when arq already holds a job or a result of that id.
SUBMIT = """
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then return 0 end
redis.call('HSET', KEYS[1], 'channel', ARGV[1], 'created_ms', ARGV[2], 'job', ARGV[3],
  'job_id', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('PSETEX', KEYS[3], ARGV[7], ARGV[6])
redis.call('ZADD', KEYS[5], ARGV[8], ARGV[4])
redis.call('PUBLISH', KEYS[6], '1')
return 1
"""

# KEYS: meta, channel queue, cancel, end, lease. ARGV: worker id, job id, turn id, lease ms.
# Take ownership of a turn (and its lease) and see, in the same step, whether it may start
# (marked `started` when it may: from then on it has side effects and is never run twice). A
# turn that already ended, or whose job was superseded by a re-queued one, is not taken.
CLAIM = """
if redis.call('EXISTS', KEYS[4]) == 1 then return {false, 0, 1} end
local current = redis.call('HGET', KEYS[1], 'job_id')
if current and current ~= ARGV[2] then return {false, 0, 1} end
redis.call('HSET', KEYS[1], 'worker', ARGV[1])
redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[4])
local head = redis.call('LINDEX', KEYS[2], 0)
if head == ARGV[3] then redis.call('HSET', KEYS[1], 'started', '1') end
return {head, redis.call('EXISTS', KEYS[3]), 0}
"""

# KEYS: meta, end, channel queue. ARGV: job id, worker id, turn id, ttl ms.
# A claimed turn that waited its turn starts: 1, or 0 when it ended or was handed to another
# job meanwhile (its worker lost Redis for longer than a lease). A turn whose place in the
# queue was lost (Redis restarted without its data) takes a place again first.
START = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local current = redis.call('HGET', KEYS[1], 'job_id')
if current and current ~= ARGV[1] then return 0 end
if not redis.call('LPOS', KEYS[3], ARGV[3]) then redis.call('RPUSH', KEYS[3], ARGV[3]) end
redis.call('HSET', KEYS[1], 'started', '1', 'worker', ARGV[2])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
"""

# KEYS: meta, end. ARGV: job id the reaper saw, turn id, max re-queues.
# Hand a turn that never started to a new job, once, whoever notices first. Returns what to do:
# {'requeued', job_id, job}, {'lost'} (it had started, or was re-queued too often) or {'handled'}.
REQUEUE = """
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
