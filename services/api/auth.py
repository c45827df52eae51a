"""Who may call the api: the owner's bearer token, the telegram service's own credential, and a
metrics scraper's (GET /metrics only).

The owner's token comes from AION_API_TOKEN (the environment, or the file the first start
generated: shared/secret_files.py); an install from before those files keeps the hash stored in
PostgreSQL, or generates one there. The telegram service holds a credential of its own
(AION_TELEGRAM_SERVICE_TOKEN) that opens only the routes that service calls, so a compromised
bot process cannot read keys, change settings or reload plugins.

The front gate (services/api/gate.py) checks them before any body is read and leaves the caller
in the request scope under CALLER_SCOPE_KEY, where the routers' `Authorized` dependency finds it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from services.api.access import RouteSet
from services.api.throttle import FailedTokens
from services.api.token_file import PendingTokenFile
from shared.db import Pool, credentials

log = logging.getLogger("aion.api.auth")

# (method, route path) the telegram service calls (services/telegram/api_client.py).
TELEGRAM_ROUTES = frozenset(
    {
        ("POST", "/api/chat"),
        ("GET", "/api/chat/{job}/events"),
        ("POST", "/api/files"),  # documents the owner sends, read before the chat that cites them
        ("POST", "/api/approvals/{approval_id}"),
        ("POST", "/api/reset"),
        ("POST", "/api/model"),
        ("GET", "/api/config"),
        ("GET", "/api/telegram/bot"),
        ("GET", "/api/audio/{filename}"),
        ("HEAD", "/api/audio/{filename}"),
    }
)
_TELEGRAM = RouteSet(TELEGRAM_ROUTES)
# What a metrics scraper's credential opens.
_METRICS = RouteSet([("GET", "/metrics")])

# Where the gate leaves the caller it let in (an ASGI scope extension key).
CALLER_SCOPE_KEY = "aion.caller"


class Caller(Enum):
    OWNER = "owner"
    TELEGRAM = "telegram"
    METRICS = "metrics"

    @property
    def credential(self) -> str:
        """How a refusal names the credential presented."""
        return {
            "owner": "The owner's token",
            "telegram": "The telegram service's credential",
            "metrics": "The metrics scraper's credential (AION_METRICS_TOKEN)",
        }[self.value]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenVerifier:
    """Compares presented tokens with one expected token in constant time."""

    def __init__(self, expected_sha256: bytes) -> None:
        self._expected = expected_sha256

    @classmethod
    def of(cls, token: str) -> TokenVerifier:
        return cls(_digest(token))

    def verify(self, presented: str) -> bool:
        return hmac.compare_digest(_digest(presented), self._expected)


@dataclass(frozen=True, slots=True)
class Credentials:
    owner: TokenVerifier
    telegram: TokenVerifier | None = None
    metrics: TokenVerifier | None = None

    def caller(self, presented: str) -> Caller | None:
        if self.owner.verify(presented):
            return Caller.OWNER
        if self.telegram is not None and self.telegram.verify(presented):
            return Caller.TELEGRAM
        if self.metrics is not None and self.metrics.verify(presented):
            return Caller.METRICS
        return None

    @staticmethod
    def allows(caller: Caller, method: str, path: str | None) -> bool:
        """Whether `caller` may use the route at `path` (a request path or a route template)."""
        if caller is Caller.OWNER:
            return True
        routes = _TELEGRAM if caller is Caller.TELEGRAM else _METRICS
        return path is not None and (method, path) in routes


async def load_verifier(configured: str | None, pool: Pool, token_file: Path) -> TokenVerifier:
    """Use the configured token; otherwise the stored hash, generating the token on first start
    into `token_file` (readable by this user only). The token itself is never logged."""
    if configured:
        return TokenVerifier.of(configured)
    async with pool.connection() as conn:
        stored = await credentials.stored_token_hash(conn)
        if stored is not None:
            log.info(
                "AION_API_TOKEN is not set; using the token generated at first start (written "
                "to %s then)",
                token_file,
            )
            return TokenVerifier(stored)
        token = secrets.token_urlsafe(32)
        pending = PendingTokenFile(token_file, token)  # before the hash: a token nobody can read
        if await credentials.store_token_hash_once(conn, _digest(token)):
            pending.commit()
            log.warning(
                "AION_API_TOKEN is not set; generated an API token into %s (readable by this "
                "user only; PostgreSQL keeps only its hash)",
                pending.path,
            )
            return TokenVerifier(_digest(token))
        pending.discard()
        stored = await credentials.stored_token_hash(conn)  # another replica won the race
        assert stored is not None
        return TokenVerifier(stored)


async def identify(
    credentials: Credentials, failed: FailedTokens, token: str, address: str, attempt: str
) -> Caller | None:
    """Who a presented token names. A wrong one counts towards its address's backoff and is
    logged as `attempt` with the address — never the token."""
    caller = credentials.caller(token)
    if caller is None:
        failures, wait = await failed.failed(address)
        log.warning(
            "refused %s (%d failed in 15 min%s)",
            attempt,
            failures,
            f"; blocked for {wait:.0f} s" if wait else "",
        )
        return None
    failed.passed(address)
    return caller
