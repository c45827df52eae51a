"""Counts for the public status summary."""

from __future__ import annotations

from shared.db import Conn


async def memory_entries(conn: Conn) -> int:
    cur = await conn.execute("SELECT count(*) AS n FROM memories")
    row = await cur.fetchone()
    return int(row["n"]) if row else 0
