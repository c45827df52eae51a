"""Riding out a short Redis outage: retry an idempotent operation with bounded backoff.

A Redis restart (`docker compose restart`, a pod moved) drops every connection for a few
seconds; the next command on each fails once Redis is gone and works again once it is back.
Only operations that are safe to repeat go through here: a retry after a reply was lost must
not do the work twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import redis.exceptions

log = logging.getLogger("aion.redis")

T = TypeVar("T")

# BusyLoadingError (Redis still reading its AOF after a restart) is a ConnectionError.
RETRYABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(redis.exceptions.ConnectionError):  # type: ignore[misc]
    """Redis stayed out of reach for a whole retry budget; never retried again by an outer
    retry (so budgets do not nest), and rendered as `503` by the api like any lost connection."""


@dataclass(frozen=True, slots=True)
class RedisRetry:
    """How long to keep trying (`budget_seconds`; 0: once) and how fast to back off."""

    budget_seconds: float
    first_delay: float = 0.05
    max_delay: float = 1.0

    async def run(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        """`operation()`, again after each connection failure until the budget is spent;
        then `RedisUnavailable`. Without a budget, failures pass through unchanged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget_seconds
        delay = self.first_delay
        failures = 0
        while True:
            try:
                result = await operation()
            except RedisUnavailable:
                raise
            except RETRYABLE as exc:
                if self.budget_seconds <= 0:
                    raise
                left = deadline - loop.time()
                if left <= 0:
                    raise RedisUnavailable(
                        f"Redis unreachable for {self.budget_seconds:g} s ({what}): {exc}"
                    ) from exc
                if failures == 0:
                    log.warning(
                        "Redis unreachable (%s: %s); retrying for up to %gs", what, exc, left
                    )
                failures += 1
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, self.max_delay)
                continue
            if failures:
                log.info("Redis reachable again (%s) after %d retries", what, failures)
            return result


NO_RETRY = RedisRetry(0)
