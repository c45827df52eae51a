"""Key/value rows of the `settings` table: the owner's settings and the active model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from shared.app_settings import AppSettings
from shared.db import Conn

ACTIVE_MODEL_KEY = "active_model"


@dataclass(frozen=True, slots=True)
class StoredConfig:
    owner_settings: AppSettings
    active_model: str | None


async def load_values(conn: Conn) -> dict[str, Any]:
    cur = await conn.execute("SELECT key, value FROM settings")
    return {row["key"]: row["value"] async for row in cur}


async def load_settings(conn: Conn) -> StoredConfig:
    """Stored values over defaults (keys the model no longer knows are ignored)."""
    values = await load_values(conn)
    known = {k: v for k, v in values.items() if k in AppSettings.model_fields}
    model = values.get(ACTIVE_MODEL_KEY)
    return StoredConfig(AppSettings.model_validate(known), str(model) if model else None)


async def active_model(conn: Conn) -> str | None:
    cur = await conn.execute("SELECT value FROM settings WHERE key = %s", (ACTIVE_MODEL_KEY,))
    row = await cur.fetchone()
    return str(row["value"]) if row else None


async def store_value(conn: Conn, key: str, value: Any) -> None:
    await conn.execute(
        """
        INSERT INTO settings (key, value) VALUES (%s, %s)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        """,
        (key, Jsonb(value)),
    )
