"""The owner's settings as this worker last read them, dropped on `settings_changed`.

Saves a database round trip on every turn. A change made while a load is in flight bumps the
version, so the stale result of that load is not kept.
"""

from __future__ import annotations

from shared.db import Pool
from shared.db import settings as settings_repo
from shared.db.settings import StoredSettings


class SettingsCache:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._value: StoredSettings | None = None
        self._version = 0

    def invalidate(self) -> None:
        self._value = None
        self._version += 1

    async def get(self) -> StoredSettings:
        if self._value is not None:
            return self._value
        version = self._version
        async with self._pool.connection() as conn:
            value = await settings_repo.load_settings(conn)
        if version == self._version:
            self._value = value
        return value
