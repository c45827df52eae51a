"""Which plugins the owner turned on or off (plugins not listed keep their default)."""

from __future__ import annotations

from shared.db import Conn


async def enabled_states(conn: Conn) -> dict[str, bool]:
    cur = await conn.execute("SELECT name, enabled FROM plugin_state")
    return {row["name"]: bool(row["enabled"]) async for row in cur}


async def set_enabled(conn: Conn, name: str, enabled: bool) -> None:
    await conn.execute(
        """
        INSERT INTO plugin_state (name, enabled) VALUES (%s, %s)
        ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
        """,
        (name, enabled),
    )
