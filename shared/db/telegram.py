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


async def group_chats(conn: Conn) -> list[int]:
    cur = await conn.execute("SELECT chat_id FROM telegram_group_chats ORDER BY added_at, chat_id")
    return [int(row["chat_id"]) async for row in cur]


async def replace_group_chats(conn: Conn, chat_ids: Iterable[int]) -> None:
    """The whole list at once, in one transaction."""
    ids = sorted(set(chat_ids))
    async with conn.transaction():
        await conn.execute("DELETE FROM telegram_group_chats WHERE NOT (chat_id = ANY(%s))", (ids,))
        await conn.execute(
            """
            INSERT INTO telegram_group_chats (chat_id)
            SELECT unnest(%s::bigint[]) ON CONFLICT (chat_id) DO NOTHING
            """,
            (ids,),
        )


async def owner_chat(conn: Conn) -> int | None:
    """The chat the owner chose for answers that have no chat of their own."""
    cur = await conn.execute("SELECT owner_chat FROM telegram_options")
    row = await cur.fetchone()
    return int(row["owner_chat"]) if row and row["owner_chat"] is not None else None


async def set_owner_chat(conn: Conn, chat_id: int | None) -> None:
    await conn.execute(
        """
        INSERT INTO telegram_options (singleton, owner_chat) VALUES (true, %s)
        ON CONFLICT (singleton) DO UPDATE SET owner_chat = EXCLUDED.owner_chat
        """,
        (chat_id,),
    )
