"""Console sessions: the owner trades the API token for an HttpOnly cookie once, so page
scripts never hold the token (API.md, "Console sessions").

A session id is 32 random bytes; Redis keeps only its SHA-256 (a dump of Redis opens nothing),
with a TTL, so every api replica sees a sign-out at once and a restart of the api loses nothing.
"""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis

from services.api.auth import Caller

COOKIE_NAME = "aion_session"
_KEY_PREFIX = "aion:session:"
# Longer than any id we issue, shorter than anything worth hashing: junk is refused unread.
_MAX_ID_CHARS = 128


def _key(session_id: str) -> str:
    return _KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions in Redis: made at sign-in, looked up by the gate, revoked at sign-out."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds

    async def create(self, caller: Caller) -> str:
        session_id = secrets.token_urlsafe(32)
        await self._redis.set(_key(session_id), caller.value.encode(), ex=self.ttl_seconds)
        return session_id

    async def caller(self, session_id: str) -> Caller | None:
        """Who the session belongs to; None when it is unknown, expired or revoked."""
        if not session_id or len(session_id) > _MAX_ID_CHARS:
            return None
        value = await self._redis.get(_key(session_id))
        if value is None:
            return None
        try:
            return Caller(value.decode())
        except ValueError:
            return None

    async def revoke(self, session_id: str) -> None:
        if session_id and len(session_id) <= _MAX_ID_CHARS:
            await self._redis.delete(_key(session_id))
