"""Access tokens for Gemini from the owner's Google login (the stored refresh token).

Tokens are kept until a minute before they expire; a new refresh token (a new login) or a
changed client gets a fresh one at once.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from services.worker.providers.base import ProviderError


class GoogleTokens:
    def __init__(self, token_url: str, timeout: float = 10.0) -> None:
        self._token_url = token_url
        self._http = httpx.AsyncClient(timeout=timeout)
        self._cached: tuple[tuple[str, str], str, float] | None = None
        self._lock = asyncio.Lock()

    async def access_token(self, refresh_token: str, client_id: str, client_secret: str) -> str:
        identity = (refresh_token, client_id)
        async with self._lock:  # one refresh at a time, the others wait and share it
            cached = self._cached
            if cached and cached[0] == identity and cached[2] > time.monotonic():
                return cached[1]
            token, lifetime = await self._refresh(refresh_token, client_id, client_secret)
            self._cached = (identity, token, time.monotonic() + max(lifetime - 60, 30))
            return token

    async def _refresh(
        self, refresh_token: str, client_id: str, client_secret: str
    ) -> tuple[str, float]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        try:
            response = await self._http.post(self._token_url, data=form)
        except httpx.HTTPError as exc:
            message = f"gemini: could not reach Google to refresh the login ({exc})"
            raise ProviderError(message) from exc
        body = _json(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str):
            reason = body.get("error") or f"HTTP {response.status_code}"
            raise ProviderError(
                f"gemini: Google refused to refresh the login ({reason}); sign in again "
                "through /api/oauth/google/start",
                status=response.status_code,
            )
        lifetime = body.get("expires_in")
        return token, float(lifetime) if isinstance(lifetime, int | float) else 3600.0

    async def aclose(self) -> None:
        await self._http.aclose()


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
