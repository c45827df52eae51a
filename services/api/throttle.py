"""Per-address limits in Redis, so every api replica sees the same counts: failed bearer tokens
back off, and the public routes are rate-limited.

Backoff: the first FREE_FAILURES wrong tokens from an address within FAILURE_WINDOW_SECONDS cost
nothing; each one after that blocks the address for twice as long as the one before, from 1 s up
to MAX_BACKOFF_SECONDS. While blocked, a request with a token is answered 429 without the token
being checked (no guess is learned), and such refusals do not count as failures, so the block
never grows past the bound: when the attempts stop, the owner is back in within 5 minutes, and an
attacker at another address never blocks the owner at all.

A request with a valid token costs no Redis round trip when this replica has seen that address
pass within CLEAR_SECONDS (it looks the block up at most that often per address).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Callable

import redis.exceptions
from redis.asyncio import Redis
from starlette.types import Scope

log = logging.getLogger("aion.api.throttle")

FREE_FAILURES = 10
FAILURE_WINDOW_SECONDS = 15 * 60
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
CLEAR_SECONDS = 2.0
REDIS_TIMEOUT_SECONDS = 2.0
_LOCAL_ENTRIES = 4096  # a replica's memory of addresses: bounded, whatever an attacker sends
_REDIS_DOWN = (redis.exceptions.RedisError, OSError, TimeoutError)


def client_address(scope: Scope) -> str:
    """The client the limits count: the socket peer (or the address a trusted proxy forwarded,
    see AION_TRUSTED_PROXIES). IPv6 counts by /64: one host is usually given a whole /64."""
    client = scope.get("client")
    if not client:
        return "unknown"
    try:
        ip = ipaddress.ip_address(client[0])
    except ValueError:  # not an address (a proxy forwarded junk): one bucket for all of it
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def backoff_seconds(failures: int) -> float:
    """How long an address is blocked after its `failures`-th wrong token in the window."""
    over = failures - FREE_FAILURES
    if over <= 0:
        return 0.0
    return min(FIRST_BACKOFF_SECONDS * float(2 ** min(over - 1, 30)), MAX_BACKOFF_SECONDS)


def _remember(entries: dict[str, float], address: str, until: float) -> None:
    if len(entries) >= _LOCAL_ENTRIES and address not in entries:
        entries.clear()  # forgetting only costs a Redis lookup
    entries[address] = until


class FailedTokens:
    """Counts wrong bearer tokens per address and blocks an address that keeps sending them."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._clock = clock
        self._blocked: dict[str, float] = {}  # address -> blocked until (this replica knows)
        self._clear: dict[str, float] = {}  # address -> seen passing, trusted until

    async def blocked_for(self, address: str) -> float:
        """Seconds the address is still blocked for; 0 when it may try a token."""
        now = self._clock()
        until = self._blocked.get(address, 0.0)
        if until > now:
            return until - now
        self._blocked.pop(address, None)
        if self._clear.get(address, 0.0) > now:
            return 0.0
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                left_ms = int(await self._redis.pttl(_block_key(address)))
        except _REDIS_DOWN as exc:
            # Fail open: a token of 32+ characters is not guessed while Redis is down, and the
            # owner must not be locked out by an outage.
            log.warning("auth backoff: Redis unavailable (%s); not checked", exc)
            return 0.0
        if left_ms > 0:
            _remember(self._blocked, address, now + left_ms / 1000)
            return left_ms / 1000
        return 0.0

    def passed(self, address: str) -> None:
        """A valid token came from `address`: skip its block lookup for CLEAR_SECONDS."""
        _remember(self._clear, address, self._clock() + CLEAR_SECONDS)

    async def failed(self, address: str) -> tuple[int, float]:
        """Count a wrong token; return the address's failures in the window and the block it
        starts now (0 while the first ones are free)."""
        self._clear.pop(address, None)
        key = _failures_key(address)
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, FAILURE_WINDOW_SECONDS)
                    failures, _ = await pipe.execute()
                wait = backoff_seconds(int(failures))
                if wait:
                    await self._redis.set(_block_key(address), b"1", px=int(wait * 1000))
        except _REDIS_DOWN as exc:
            log.warning("auth backoff: Redis unavailable (%s); failure not counted", exc)
            return 0, 0.0
        if wait:
            _remember(self._blocked, address, self._clock() + wait)
        return int(failures), wait


class PublicRate:
    """At most `per_minute` requests per address and clock minute on the public routes."""

    def __init__(
        self, redis: Redis, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._per_minute = per_minute
        self._clock = clock  # wall clock: every replica must agree on the minute

    async def retry_after(self, address: str) -> int:
        """0 when the request may go on; otherwise the seconds until the next minute."""
        now = self._clock()
        minute = int(now // 60)
        key = f"aion:gate:public:{address}:{minute}"
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, 120)
                    count, _ = await pipe.execute()
        except _REDIS_DOWN as exc:
            log.warning("public rate limit: Redis unavailable (%s); not counted", exc)
            return 0
        if int(count) <= self._per_minute:
            return 0
        return max(1, math.ceil((minute + 1) * 60 - now))


def _failures_key(address: str) -> str:
    return f"aion:gate:failures:{address}"


def _block_key(address: str) -> str:
    return f"aion:gate:blocked:{address}"
