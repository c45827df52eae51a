"""Live notices (`GET /api/events`): what the server starts on its own, one model per kind.

Producers (the worker's reminders, turns and plugin loader, the update check, the telegram
service) publish through `publish`; the api relays the log to the console. Each notice is
appended to one capped Redis Stream (kept about a day) and announced on a pub/sub channel in
one atomic script, exactly like a turn's events (shared/turn_bus.py), so a reader that
subscribes first and then reads the log misses nothing, and a reconnect with the last stream id
(`Last-Event-ID`) resumes exactly.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.turn_keys import StoredEvent

log = logging.getLogger("aion.notices")

NOTICES_KEY = "aion:notices"
NOTICES_CHANNEL = "aion:notices:live"
_ONCE_PREFIX = "aion:notices:once:"
MAX_NOTICES = 1000  # at most about this many kept (MAXLEN ~)
KEEP_SECONDS = 24 * 3600  # and none older than about a day (MINID ~)
PREVIEW_CHARS = 200
CONSOLE_CHANNEL = "web"  # the console's own chat: its turns are no news to it
# A stream id as Redis makes them: milliseconds, a dash, a sequence number.
NOTICE_ID = re.compile(r"^\d{1,15}-\d{1,15}$")

# KEYS: the stream, the live channel, the dedupe key (used when ARGV[5] > 0).
# ARGV: maxlen, minid, type, JSON, dedupe seconds. Returns the new id, or false when deduped.
_PUBLISH = """
if tonumber(ARGV[5]) > 0 then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[5]) then return false end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[3], 'd', ARGV[4])
redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return id
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Notice(BaseModel):
    """Base of every notice: immutable, no unknown fields, stamped when made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str = Field(default_factory=_now, description="when it happened (ISO 8601, UTC)")


class ReminderNotice(Notice):
    """A reminder came due; its turn runs on `channel` (a `turn_finished` follows there)."""

    type: Literal["reminder"] = "reminder"
    reminder_id: int
    channel: str
    text: str
    turn_id: str


Outcome = Literal["done", "error", "cancelled", "approval_pending"]


class TurnFinishedNotice(Notice):
    """A turn on a channel other than the console's own (`web`) ended."""

    type: Literal["turn_finished"] = "turn_finished"
    channel: str
    turn_id: str
    outcome: Outcome
    preview: str = Field(default="", description=f"the answer's first {PREVIEW_CHARS} characters")


class AlexaToTelegramNotice(Notice):
    """An Alexa answer that was not ready in time (or needs approval) went to Telegram."""

    type: Literal["alexa_to_telegram"] = "alexa_to_telegram"
    turn_id: str


class UpdateAvailableNotice(Notice):
    """The update check found a release newer than the running one."""

    type: Literal["update_available"] = "update_available"
    current_version: str
    latest_version: str
    release_url: str | None = None


class PluginFailedNotice(Notice):
    """A plugin the owner enabled could not be loaded."""

    type: Literal["plugin_failed"] = "plugin_failed"
    plugin: str
    error: str


class McpServerFailedNotice(Notice):
    """An enabled MCP server could not be reached, or its connection was lost."""

    type: Literal["mcp_server_failed"] = "mcp_server_failed"
    server: str
    error: str


AnyNotice = Annotated[
    ReminderNotice
    | TurnFinishedNotice
    | AlexaToTelegramNotice
    | UpdateAvailableNotice
    | PluginFailedNotice
    | McpServerFailedNotice,
    Field(discriminator="type"),
]

_adapter: TypeAdapter[AnyNotice] = TypeAdapter(AnyNotice)


def decode(data: str | bytes) -> AnyNotice:
    """Parse one notice's JSON payload (clients and tests)."""
    return _adapter.validate_json(data)


def preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def once_key(*parts: str) -> str:
    """A dedupe name for `publish(once=...)`: the same parts, the same name."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


async def publish(
    redis: Redis, notice: Notice, *, once: str | None = None, once_seconds: int = 600
) -> str | None:
    """Append and announce `notice`; returns its id.

    `once`: a key (once_key) that makes a notice several processes would send (every worker
    loading the same broken plugin) go out once within `once_seconds`; None when deduped.
    Never raises for Redis: a notice is worth less than the work that sends it.
    """
    kind: str = getattr(notice, "type")  # noqa: B009 - every notice model has one
    min_id = f"{int((time.time() - KEEP_SECONDS) * 1000)}-0"
    try:
        result = await redis.eval(
            _PUBLISH,
            3,
            NOTICES_KEY,
            NOTICES_CHANNEL,
            _ONCE_PREFIX + (once or "none"),
            MAX_NOTICES,
            min_id,
            kind,
            notice.model_dump_json(),
            once_seconds if once else 0,
        )
    except RedisError as exc:
        log.warning("could not publish a %s notice: %s", kind, exc)
        return None
    if result is None:
        return None
    return result.decode() if isinstance(result, bytes) else str(result)


async def read_after(redis: Redis, after_id: str | None) -> list[StoredEvent]:
    """Every kept notice after `after_id` (exclusive), or all of them, oldest first."""
    start = f"({after_id}" if after_id else "-"
    rows = await redis.xrange(NOTICES_KEY, min=start, max="+")
    return [
        StoredEvent(event_id.decode(), fields[b"t"].decode(), fields[b"d"].decode())
        for event_id, fields in rows
    ]
