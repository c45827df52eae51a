"""What a running tool gets: the worker's connections, the turn it runs in, ways to report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.app_settings import AppSettings
from shared.events import ResponseBlock

if TYPE_CHECKING:
    from services.worker.context import WorkerContext


@dataclass(frozen=True, slots=True)
class ToolContext:
    app: WorkerContext  # pool, redis, settings... of this worker process
    turn_id: str
    channel: str
    call_id: str
    owner_settings: AppSettings  # the owner's settings as this turn read them
    # `progress(percent, label)` sends a `progress` event; `thought(text)` a `thought` event.
    progress: Callable[[float, str], Awaitable[None]]
    thought: Callable[[str], Awaitable[None]]
    # A block (audio, image) for the turn's `done` event, after the reply's text.
    add_block: Callable[[ResponseBlock], None]
