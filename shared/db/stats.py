"""Counts for the public status summary."""

from __future__ import annotations

from shared.db import Conn


async def memory_entries(conn: Conn) -> int:
    cur = await conn.execute("SELECT count(*) AS n FROM memories")
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


async def usage_stats(conn: Conn) -> dict[str, int]:
    """Counts for GET /api/config: an exchange is an answered user turn."""
    cur = await conn.execute(
        """
        SELECT
            (SELECT count(*) FROM memories) AS memory_entries,
            (SELECT count(*) FROM conversations) AS conversations,
            (SELECT count(*) FROM messages) AS messages,
            (SELECT count(*) FROM messages
             WHERE role = 'assistant' AND tool_calls IS NULL) AS exchange_count,
            (SELECT count(*) FROM messages
             WHERE role = 'user' AND created_at > now() - interval '24 hours') AS turns_last_24h
        """
    )
    row = await cur.fetchone()
    return {k: int(v) for k, v in (row or {}).items()}
