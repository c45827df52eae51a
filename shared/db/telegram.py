"""Rows of `telegram_allowed_users` and `telegram_chats` (Telegram ids are 64-bit: bigint)."""

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


async def touch_chat(conn: Conn, chat_id: int, user_id: int) -> None:
    await conn.execute(
        """
        INSERT INTO telegram_chats (chat_id, user_id) VALUES (%s, %s)
        ON CONFLICT (chat_id) DO UPDATE SET user_id = EXCLUDED.user_id, last_seen_at = now()
        """,
        (chat_id, user_id),
    )


async def owner_chat(conn: Conn) -> int | None:
    """The chat an allowed user wrote in last; else the first allowed user's private chat
    (a private chat's id is the user's id); None when nobody is allowed."""
    cur = await conn.execute(
        """
        SELECT c.chat_id FROM telegram_chats c
        JOIN telegram_allowed_users a ON a.user_id = c.user_id
        ORDER BY c.last_seen_at DESC LIMIT 1
        """
    )
    row = await cur.fetchone()
    if row:
        return int(row["chat_id"])
    ids = await allowed_ids(conn)
    return ids[0] if ids else None
