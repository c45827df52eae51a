"""The owner's bearer token: from AION_API_TOKEN, or generated once and kept only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from shared.db import Pool, credentials

log = logging.getLogger("aion.api.auth")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenVerifier:
    """Compares presented tokens with the owner's in constant time."""

    def __init__(self, expected_sha256: bytes) -> None:
        self._expected = expected_sha256

    def verify(self, presented: str) -> bool:
        return hmac.compare_digest(_digest(presented), self._expected)


async def load_verifier(configured: str | None, pool: Pool) -> TokenVerifier:
    """Use the configured token; otherwise the stored hash, generating the token on first start."""
    if configured:
        return TokenVerifier(_digest(configured))
    async with pool.connection() as conn:
        stored = await credentials.stored_token_hash(conn)
        if stored is not None:
            return TokenVerifier(stored)
        token = secrets.token_urlsafe(32)
        if await credentials.store_token_hash_once(conn, _digest(token)):
            # The only time this token is ever visible: the owner copies it from this line.
            log.warning(
                "AION_API_TOKEN is not set; generated an API token (shown once, only its hash "
                "is stored): %s",
                token,
            )
            return TokenVerifier(_digest(token))
        stored = await credentials.stored_token_hash(conn)  # another replica won the race
        assert stored is not None
        return TokenVerifier(stored)
