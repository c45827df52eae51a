"""What the bot's handlers share: the api client, the outbox, the chats' queues, and the parts of
the configuration that change while the bot runs (the allowlist, the transcriber)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.telegram.api_client import AionApi
from services.telegram.chats import ChatQueues
from services.telegram.media import Transcriber
from services.telegram.outbox import Outbox


@dataclass
class Runtime:
    """Kept in the application's `bot_data` (python-telegram-bot's place for what every
    handler needs), so handlers are plain functions, as in the library's own examples."""

    api: AionApi
    outbox: Outbox
    queues: ChatQueues
    allowed_ids: frozenset[int] = frozenset()
    group_chats: frozenset[int] = frozenset()
    transcriber: Transcriber = field(default_factory=lambda: Transcriber(None, None))
    max_file_bytes: int = 20 * 1024 * 1024  # what the Bot API lets a bot download
    file_wait_seconds: float = 120.0  # how long an upload waits for the file to be read
    told_unknown: set[int] = field(default_factory=set)
