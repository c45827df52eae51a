"""The owner's configuration (settings, active model, prompts) as this worker last read it,
dropped on `settings_changed`.

Saves database round trips on every turn. A change made while a load is in flight bumps the
version, so the stale result of that load is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.app_settings import AppSettings
from shared.db import Pool
from shared.db import prompts as prompts_repo
from shared.db import settings as settings_repo
from shared.prompts import DEFAULT_PROMPTS


@dataclass(frozen=True, slots=True)
class OwnerConfig:
    owner_settings: AppSettings
    active_model: str | None
    prompts: dict[str, str]  # every prompt: the owner's saved text or AION's default


class OwnerConfigCache:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._value: OwnerConfig | None = None
        self._version = 0

    def invalidate(self) -> None:
        self._value = None
        self._version += 1

    async def get(self) -> OwnerConfig:
        if self._value is not None:
            return self._value
        version = self._version
        async with self._pool.connection() as conn:
            stored = await settings_repo.load_settings(conn)
            saved = await prompts_repo.latest_all(conn)
        value = OwnerConfig(
            stored.owner_settings, stored.active_model, {**DEFAULT_PROMPTS, **saved}
        )
        if version == self._version:
            self._value = value
        return value
