"""The owner's settings: read them with stats, change some of them at once, tell every worker."""

from __future__ import annotations

from typing import Any

import pydantic

from services.api.broadcast import announce
from services.api.context import AppContext
from services.api.errors import Unprocessable
from services.api.schemas.config import ConfigView, UsageStats
from shared.app_settings import AppSettings
from shared.control import SettingsChanged
from shared.db import Conn, stats
from shared.db import settings as settings_repo


class InvalidSettings(Unprocessable):
    pass


async def current(ctx: AppContext, conn: Conn) -> ConfigView:
    stored = await settings_repo.load_settings(conn)
    return ConfigView(
        model=stored.active_model or ctx.settings.aion_model,
        settings=stored.owner_settings,
        stats=UsageStats(**await stats.usage_stats(conn)),
    )


async def update(ctx: AppContext, conn: Conn, patch: dict[str, Any]) -> AppSettings:
    """Validate the patch against everything stored, store it whole or not at all."""
    stored = await settings_repo.load_settings(conn)
    try:
        merged = AppSettings.model_validate({**stored.owner_settings.model_dump(), **patch})
    except pydantic.ValidationError as exc:
        raise InvalidSettings(_describe(exc)) from exc
    values = merged.model_dump(mode="json")
    async with conn.transaction():
        for key in patch:
            await settings_repo.store_value(conn, key, values[key])
    await announce(ctx, SettingsChanged())  # applied by every live worker when this returns
    return merged


def _describe(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
