"""Riding out a short outage of a store: retry an idempotent step with bounded backoff.

A restart of Redis or PostgreSQL (`docker compose restart`, a pod moved) drops every connection
for a few seconds; the next command on each fails while the store is gone and works again once
it is back. Only steps that are safe to repeat go through here: a retry after a reply was lost
must not do the work twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import redis.exceptions

log = logging.getLogger("aion.retry")

T = TypeVar("T")

# BusyLoadingError (Redis still reading its AOF after a restart) is a ConnectionError.
RETRYABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(redis.exceptions.ConnectionError):  # type: ignore[misc]
    """Redis stayed out of reach for a whole retry budget; never retried again by an outer
    retry (so budgets do not nest), and rendered as `503` by the api like any lost connection."""


@dataclass(frozen=True, slots=True)
class BoundedRetry:
    """How long to keep trying (`budget_seconds`; 0: once) and how fast to back off."""

    budget_seconds: float
    first_delay: float = 0.05
    max_delay: float = 1.0

    store: ClassVar[str] = "the store"
    retryable: ClassVar[tuple[type[Exception], ...]] = ()
    gave_up: ClassVar[type[Exception]] = Exception

    async def run(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        """`operation()`, again after each connection failure until the budget is spent;
        then `gave_up`. Without a budget, failures pass through unchanged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget_seconds
        delay = self.first_delay
        failures = 0
        while True:
            try:
                result = await operation()
            except self.gave_up:
                raise
            except self.retryable as exc:
                if self.budget_seconds <= 0:
                    raise
                left = deadline - loop.time()
                if left <= 0:
                    raise self.gave_up(
                        f"{self.store} unreachable for {self.budget_seconds:g} s ({what}): {exc}"
                    ) from exc
                if failures == 0:
                    log.warning(
                        "%s unreachable (%s: %s); retrying for up to %gs",
                        self.store,
                        what,
                        exc,
                        left,
                    )
                failures += 1
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, self.max_delay)
                continue
            if failures:
                log.info("%s reachable again (%s) after %d retries", self.store, what, failures)
            return result


@dataclass(frozen=True, slots=True)
class RedisRetry(BoundedRetry):
    store: ClassVar[str] = "Redis"
    retryable: ClassVar[tuple[type[Exception], ...]] = RETRYABLE
    gave_up: ClassVar[type[Exception]] = RedisUnavailable


NO_RETRY = RedisRetry(0)
