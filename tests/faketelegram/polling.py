"""getUpdates long polling (and webhook delivery): the update queue of every bot."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.requests import Request

from tests.faketelegram.methods import ApiError, BotApi
from tests.faketelegram.state import Bot, Delivery

CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
# What Telegram sends when allowed_updates is not given (or empty).
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class HeldPoll:
    """One getUpdates request held open; woken through its event from any thread."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


class Updates(BotApi):
    """Queues updates per token and hands them out the way getUpdates does."""

    def __init__(self, conflict: Literal["terminate_older", "reject_newer"]) -> None:
        super().__init__()
        self.conflict = conflict

    def _bot(self, token: str) -> Bot:
        bot = self._bots.get(token)
        if bot is None:
            raise KeyError(f"unknown token {token!r}: add_token() it first")
        return bot

    def _queue(self, token: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            bot = self._bot(token)
            update = {"update_id": bot.next_update_id, kind: payload}
            bot.next_update_id += 1
            bot.updates.append(update)
            waiting = [bot.poller, bot.webhook_signal]
        for held in waiting:
            if isinstance(held, HeldPoll):
                held.wake()
        return copy.deepcopy(update)

    def _deliverable(self, bot: Bot, offset: int | None, limit: int) -> list[dict[str, Any]]:
        if offset is not None:
            if offset < 0:  # the last -offset updates; the others are forgotten
                while len(bot.updates) > -offset:
                    bot.updates.popleft()
            else:  # calling with an offset confirms every update before it
                while bot.updates and bot.updates[0]["update_id"] < offset:
                    bot.updates.popleft()
        allowed = set(bot.allowed_updates or ())

        def wanted(update: dict[str, Any]) -> bool:
            kind = next(k for k in update if k != "update_id")
            return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED

        # Telegram does not even create the updates a bot said it does not want.
        kept = [u for u in bot.updates if wanted(u)]
        bot.updates = deque(kept)
        return copy.deepcopy(kept[:limit])

    async def _get_updates(self, bot: Bot, params: dict[str, Any], request: Request) -> Any:
        offset = params.get("offset")
        offset = int(offset) if offset not in (None, "") else None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        poll = HeldPoll(asyncio.get_running_loop())
        with self._lock:
            if bot.webhook_url:
                raise ApiError(409, WEBHOOK_ACTIVE)
            bot.poll_count += 1
            if params.get("allowed_updates") is not None:
                bot.allowed_updates = list(params["allowed_updates"])
            held = bot.poller if isinstance(bot.poller, HeldPoll) else None
        if held is not None:
            # A client that stopped polling may not have been noticed yet (PTB's last
            # confirming getUpdates comes right after it drops the long poll): let the held
            # request check, and only call it a conflict when it is still there.
            held.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.released.wait(), 0.5)
        with self._lock:
            if isinstance(bot.poller, HeldPoll):
                bot.conflicts += 1
                if self.conflict == "reject_newer":
                    raise ApiError(409, CONFLICT)
                bot.poller.terminated = True
                bot.poller.wake()
            bot.poller = poll
        deadline = time.monotonic() + timeout
        try:
            while True:
                poll.event.clear()
                with self._lock:
                    if poll.terminated:
                        raise ApiError(409, CONFLICT)
                    ready = self._deliverable(bot, offset, limit)
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.event.wait(), min(remaining, 0.2))
                if await request.is_disconnected():
                    return []  # the client gave up (stopped polling): free the slot now
        finally:
            with self._lock:
                if bot.poller is poll:
                    bot.poller = None
            poll.released.set()

    def poll_count(self, token: str) -> int:
        with self._lock:
            return self._bot(token).poll_count

    def polling(self, token: str) -> bool:
        """Whether a getUpdates for `token` is being held open right now."""
        with self._lock:
            bot = self._bots.get(token)
            return bot is not None and bot.poller is not None

    def conflicts(self, token: str) -> int:
        """How many times two getUpdates for `token` overlapped."""
        with self._lock:
            return self._bot(token).conflicts

    def pending_updates(self, token: str) -> int:
        with self._lock:
            return len(self._bot(token).updates)

    # --- webhook ------------------------------------------------------------------------------

    def set_webhook(self, bot: Bot, params: dict[str, Any]) -> Any:
        """As BotApi's, and from now on queued updates are POSTed to the URL (lock held, on
        the server's loop)."""
        result = super().set_webhook(bot, params)
        bot.webhook_error = None
        if bot.webhook_url and (bot.webhook_task is None or bot.webhook_task.done()):
            loop = asyncio.get_running_loop()
            bot.webhook_signal = HeldPoll(loop)
            bot.webhook_task = loop.create_task(self._deliver(bot))
        return result

    async def _deliver(self, bot: Bot) -> None:
        """POST updates one at a time, in order, until the webhook goes; a failed delivery is
        retried (Telegram backs off longer), the update stays queued until it succeeds."""
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                with self._lock:
                    signal = bot.webhook_signal
                    url, secret = bot.webhook_url, bot.webhook_secret
                    if not url or self._bots.get(bot.token) is not bot:
                        bot.webhook_task = None
                        return
                    assert isinstance(signal, HeldPoll)
                    signal.event.clear()
                    ready = self._deliverable(bot, None, 1)
                if not ready:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(signal.event.wait(), 0.2)
                    continue
                update = ready[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    status = (await client.post(url, json=update, headers=headers)).status_code
                    error = (
                        None
                        if 200 <= status < 300
                        else f"Wrong response from the webhook: {status}"
                    )
                except httpx.HTTPError as exc:
                    status, error = 0, f"Connection failed: {type(exc).__name__}"
                with self._lock:
                    self._deliveries.setdefault(bot.token, []).append(
                        Delivery(url, update["update_id"], status, headers, time.monotonic())
                    )
                    bot.webhook_error = error
                    if (
                        error is None
                        and bot.updates
                        and bot.updates[0]["update_id"] == update["update_id"]
                    ):
                        bot.updates.popleft()
                if error is not None:
                    await asyncio.sleep(0.2)

    def webhook_deliveries(self, token: str) -> list[Delivery]:
        """Every POST to `token`'s webhook so far, failed ones included."""
        with self._lock:
            return list(self._deliveries.get(token, []))
