"""Live model lists (Ollama's tags, an OpenAI-compatible `/models`), fetched with a short timeout
and kept for a while; a provider that does not answer is asked again after at most 30 s."""

from __future__ import annotations

import hashlib
import time

import httpx

from shared.providers import ProviderInfo

_FAILED_TTL = 30.0
_MAX_MODELS = 300


class ModelLists:
    def __init__(self, http: httpx.AsyncClient, *, ttl: float) -> None:
        self._http = http
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, list[str] | None]] = {}

    async def get(self, provider: ProviderInfo, base_url: str, key: str) -> list[str] | None:
        """The provider's models with their routing prefix, or None when it did not answer."""
        # The key only as a digest: a changed key is a new entry, the value is kept nowhere.
        entry = (provider.id, base_url, hashlib.sha256(key.encode()).hexdigest())
        cached = self._cache.get(entry)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        models = await self._fetch(provider, base_url, key)
        lifetime = self._ttl if models is not None else min(self._ttl, _FAILED_TTL)
        self._cache[entry] = (time.monotonic() + lifetime, models)
        return models

    async def _fetch(self, provider: ProviderInfo, base_url: str, key: str) -> list[str] | None:
        base = base_url.rstrip("/")
        try:
            if provider.id == "ollama":
                response = await self._http.get(f"{base.removesuffix('/v1')}/api/tags")
                names = [m.get("name") for m in response.json().get("models", [])]
            else:
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                response = await self._http.get(f"{base}/models", headers=headers)
                names = [m.get("id") for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, AttributeError, TypeError):
            return None
        if response.status_code != 200:
            return None
        prefix = provider.prefix if provider.strips_prefix else ""
        found = sorted({f"{prefix}{n}" for n in names if isinstance(n, str) and n})
        return found[:_MAX_MODELS]
