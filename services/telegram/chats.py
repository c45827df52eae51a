"""One queue per chat: what arrives while a turn runs waits its turn, in order, never dropped.

python-telegram-bot hands updates over one at a time; a handler only puts the work into its
chat's queue and returns, so a long turn in one chat never holds up another chat. Each chat's
queue is drained by its own task, which ends when the chat has been quiet for a while.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("aion.telegram.chats")

Work = Callable[[], Awaitable[None]]
Failed = Callable[[int, BaseException], Awaitable[None]]
IDLE_SECONDS = 60.0


class ChatQueues:
    def __init__(self, on_failure: Failed, idle_seconds: float = IDLE_SECONDS) -> None:
        self._queues: dict[int, asyncio.Queue[Work]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._busy: set[int] = set()
        self._on_failure = on_failure
        self._idle = idle_seconds

    def submit(self, chat_id: int, work: Work) -> int:
        """Queue `work` for the chat; returns how many items are ahead of it."""
        queue = self._queues.setdefault(chat_id, asyncio.Queue())
        ahead = queue.qsize() + (1 if self.busy(chat_id) else 0)
        queue.put_nowait(work)
        if chat_id not in self._tasks:
            self._tasks[chat_id] = asyncio.create_task(self._drain(chat_id, queue))
        return ahead

    def busy(self, chat_id: int) -> bool:
        return chat_id in self._busy

    async def _drain(self, chat_id: int, queue: asyncio.Queue[Work]) -> None:
        try:
            while True:
                try:
                    work = await asyncio.wait_for(queue.get(), self._idle)
                except TimeoutError:
                    if queue.empty():
                        return
                    continue
                self._busy.add(chat_id)
                try:
                    await work()
                except Exception as exc:
                    log.exception("handling a message failed", extra={"channel": chat_id})
                    try:
                        await self._on_failure(chat_id, exc)
                    except Exception:
                        log.exception("could not report the failure to the chat")
                finally:
                    self._busy.discard(chat_id)
        finally:
            self._tasks.pop(chat_id, None)
            if queue.empty():
                self._queues.pop(chat_id, None)

    async def close(self) -> None:
        """Stop every chat's task (on shutdown or when the bot is replaced)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Work queued for the old bot would write with a bot that is shut down.
        dropped = sum(q.qsize() for q in self._queues.values())
        if dropped:
            log.warning("dropping %d queued messages of the bot that stopped", dropped)
        self._queues.clear()
        self._busy.clear()
