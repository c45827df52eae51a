"""Where a chat turn lives in Redis: its key names, and its events as they are stored.

Redis hash tags ({...}) keep all keys of one turn in one cluster slot for the turn scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import TERMINAL_TYPES

_PREFIX = "aion:turn:"
WORKER_KEY_PREFIX = "aion:worker:"
CHANNEL_QUEUE_PREFIX = "aion:chanq:"


def events_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:events"


def end_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:end"


def meta_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:meta"


def cancel_key(turn_id: str) -> str:
    return f"{_PREFIX}{{{turn_id}}}:cancel"


def lease_key(turn_id: str) -> str:
    """Held by the worker that claimed the turn, renewed with its heartbeat while it holds it."""
    return f"{_PREFIX}{{{turn_id}}}:lease"


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
