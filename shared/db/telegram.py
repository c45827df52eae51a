"""Rows of `telegram_allowed_users` (Telegram ids are 64-bit: bigint)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.db import Conn


async def allowed_ids(conn: Conn) -> list[int]:
    cur = await conn.execute(
        "SELECT user_id FROM telegram_allowed_users ORDER BY added_at, user_id"
    )
    return [int(row["user_id"]) async for row in cur]


async def replace_allowed(conn: Conn, user_ids: Iterable[int]) -> None:
    """The whole list at once, in one transaction: ids kept keep their `added_at`."""
    ids = sorted(set(user_ids))
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM telegram_allowed_users WHERE NOT (user_id = ANY(%s))", (ids,)
        )
        await conn.execute(
            """
            INSERT INTO telegram_allowed_users (user_id)
            SELECT unnest(%s::bigint[]) ON CONFLICT (user_id) DO NOTHING
            """,
            (ids,),
        )


async def latest_chat(conn: Conn) -> int | None:
    """The Telegram chat with the newest owner message (`telegram:<id>` channels)."""
    cur = await conn.execute(
        """
        SELECT c.channel FROM conversations c
        JOIN messages m ON m.conversation_id = c.id AND m.role = 'user'
        WHERE c.channel ~ '^telegram:-?[0-9]{1,20}$'
        ORDER BY m.id DESC LIMIT 1
        """
    )
    row = await cur.fetchone()
    return int(str(row["channel"]).removeprefix("telegram:")) if row else None
