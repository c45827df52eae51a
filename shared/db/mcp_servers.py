"""Rows of `mcp_servers`: each server's public settings and its sealed secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class McpServerRow:
    name: str
    transport: str
    config: dict[str, Any]
    sealed_secrets: bytes | None
    enabled: bool


async def list_all(conn: Conn) -> list[McpServerRow]:
    cur = await conn.execute(
        "SELECT name, transport, config, sealed_secrets, enabled FROM mcp_servers ORDER BY name"
    )
    return [
        McpServerRow(
            row["name"],
            row["transport"],
            dict(row["config"]),
            bytes(row["sealed_secrets"]) if row["sealed_secrets"] is not None else None,
            bool(row["enabled"]),
        )
        async for row in cur
    ]


async def create(
    conn: Conn, name: str, transport: str, config: dict[str, Any], sealed: bytes | None
) -> bool:
    """False when a server of that name exists already."""
    cur = await conn.execute(
        """
        INSERT INTO mcp_servers (name, transport, config, sealed_secrets)
        VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING
        """,
        (name, transport, Jsonb(config), sealed),
    )
    return cur.rowcount == 1


async def delete(conn: Conn, name: str) -> bool:
    cur = await conn.execute("DELETE FROM mcp_servers WHERE name = %s", (name,))
    return cur.rowcount == 1


async def set_enabled(conn: Conn, name: str, enabled: bool) -> bool:
    cur = await conn.execute(
        "UPDATE mcp_servers SET enabled = %s, updated_at = now() WHERE name = %s",
        (enabled, name),
    )
    return cur.rowcount == 1
