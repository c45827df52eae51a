"""The provider secrets this worker uses: environment defaults under the owner's stored keys.

Dropped on `secrets_changed`, so a key saved through the api is used from the next provider call.
A change made while a load is in flight bumps the version, so that load's result is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.db import Pool
from shared.vault import Vault


class SecretsCache:
    def __init__(self, pool: Pool, vault: Vault, env: Mapping[str, str]) -> None:
        self._pool = pool
        self._vault = vault
        self._env = dict(env)
        self._value: Mapping[str, str] | None = None
        self._version = 0

    def invalidate(self) -> None:
        self._value = None
        self._version += 1

    async def get(self) -> Mapping[str, str]:
        if self._value is not None:
            return self._value
        version = self._version
        async with self._pool.connection() as conn:
            stored = await self._vault.load(conn)
        value = MappingProxyType({**self._env, **stored})
        if version == self._version:
            self._value = value
        return value
